"""Outgoing stanzas written as XML text: escaped, valid XML 1.0, in order with the stream's queue.

Text that reaches XMPP comes from every other platform, so it may hold characters XML 1.0
forbids (NUL, most C0 controls, lone surrogates, U+FFFE/U+FFFF); one such character makes the
server close the whole component stream as ``not-well-formed``. They become U+FFFD here, and
``& < > " '`` are escaped, for every body, subject, status and attribute.

Messages (with receipts and chat states) are the hot path of the gateway, so they are
written as text straight to the transport instead of being built as slixmpp stanza objects
and passed through its send task; while that task still has stanzas waiting, ours join its
queue behind them, so the order in which backline sent things is the order the server sees.
Text with nothing to escape or replace, most of it, is written as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slixmpp import BaseXMPP

CHAT_STATES = "http://jabber.org/protocol/chatstates"
CORRECTION = "urn:xmpp:message-correct:0"
RECEIPTS = "urn:xmpp:receipts"
STATES = frozenset({"active", "composing", "paused", "inactive", "gone"})  # XEP-0085
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Anything but these needs work; most text has none, so it is written as it is.
_PLAIN_TEXT = re.compile(
    "[^\t\n\x20-\x25\x27-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_PLAIN_ATTR = re.compile(
    "[^\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
    | {"\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}  # kept as written, not read as spaces
)


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def text(value: str) -> str:
    """Character data: valid and escaped."""
    if _PLAIN_TEXT.search(value) is None:
        return value
    return xml_safe(value).translate(_TEXT)


def attr(value: str) -> str:
    """An attribute value for ``"…"``: valid and escaped."""
    if _PLAIN_ATTR.search(value) is None:
        return value
    return xml_safe(value).translate(_ATTR)


def message(
    *,
    to: str,
    frm: str,
    mtype: str,
    body: str,
    mid: str,
    subject: str | None = None,
    chat_state: str | None = None,
    corrects: str | None = None,
) -> str:
    """One ``<message/>`` with a body (a subject, a chat state, a correction) as XML text."""
    parts = [f'<message to="{attr(to)}" from="{attr(frm)}" type="{attr(mtype)}" id="{attr(mid)}">']
    if subject is not None:
        parts.append(f"<subject>{text(subject)}</subject>")
    parts.append(f"<body>{text(body)}</body>")
    if chat_state is not None:
        parts.append(_state(chat_state))
    if corrects is not None:
        parts.append(f'<replace id="{attr(corrects)}" xmlns="{CORRECTION}"/>')
    parts.append("</message>")
    return "".join(parts)


def chat_state(*, to: str, frm: str, state: str) -> str:
    """A bodiless ``<message/>`` carrying only a chat state (XEP-0085)."""
    return f'<message to="{attr(to)}" from="{attr(frm)}" type="chat">{_state(state)}</message>'


def _state(state: str) -> str:
    """The chat state element; its name is the state, so only XEP-0085's five will do."""
    if state not in STATES:
        raise ValueError(f"{state!r} is not an XEP-0085 chat state")
    return f'<{state} xmlns="{CHAT_STATES}"/>'


def receipt(*, to: str, frm: str, of: str) -> str:
    """A receipt (XEP-0184) for the message with id ``of``."""
    return (
        f'<message to="{attr(to)}" from="{attr(frm)}">'
        f'<received xmlns="{RECEIPTS}" id="{attr(of)}"/></message>'
    )


def write(stream: BaseXMPP, xml: str) -> None:
    """Send ``xml`` now, or behind the stanzas slixmpp's send task still has waiting."""
    if stream.waiting_queue.empty() and stream.transport is not None:
        stream.send_raw(xml)
    else:
        stream.send(xml)
