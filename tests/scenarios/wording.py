"""What a customer may read (INT-2, CON-2): display names and neutral sentences only.

No member handle (``@eli``), no target id (``group:billing``, ``vm:dana``, ``rp:sales``,
``queue:overflow``, ``skill:spanish``) and no system wording (machine kinds and states,
routing decisions). The console prefixes every line of an interaction with its id, as it
does for members; that prefix is the conversation's reference, not content.
"""

from __future__ import annotations

import re

CUSTOMER_LINE = re.compile(r"^\[customer:[^\]]+\] ?(?:\(i\d+\) )?(?P<text>.*)$")
FORBIDDEN = re.compile(
    r"@\w"
    r"|\b(?:group|vm|rp|queue|skill):"
    r"|\b(?:voice|workitem|consultation|routing|wrapup)\b"
    r"|\b(?:nobody in|trying)\b",
    re.IGNORECASE,
)


def customer_lines(transcript: list[str]) -> list[str]:
    """The texts delivered to customers in a console transcript."""
    return [m["text"] for m in map(CUSTOMER_LINE.match, transcript) if m]


def bad_wording(transcript: list[str]) -> list[str]:
    """Customer lines that show something internal."""
    return [text for text in customer_lines(transcript) if FORBIDDEN.search(text)]
