"""Stanza sizes (ADP-4): a long reply goes out as several stanzas under ``xmpp.max_stanza``.

Prosody closes a component stream whose stanza is over its limit (512 KiB by default), and
with it every member's session; so no stanza is ever built larger than the setting. Bodies
split at line ends where they can, inside a line only when it alone is too long.
"""

from __future__ import annotations

from adapters.xmpp.wire import text as xml_text

ENVELOPE = 1024  # bytes for the addresses, id, subject and chat state around a body
WIDEST = 5  # bytes one character can take escaped: "&" is "&amp;", UTF-8 at most 4


def encoded(text: str) -> int:
    """Bytes ``text`` takes inside a stanza (XML-escaped UTF-8)."""
    return len(xml_text(text).encode("utf-8"))


def split_body(body: str, max_stanza: int) -> list[str]:
    """``body`` in parts that each fit a stanza of ``max_stanza`` bytes; one part if it fits."""
    budget = max(256, max_stanza - ENVELOPE)
    if len(body) * WIDEST <= budget or encoded(body) <= budget:  # most bodies: no encoding
        return [body]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _pieces(body.split("\n"), budget):
        cost = encoded(line) + 1
        if current and size + cost > budget:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += cost
    if current:
        parts.append("\n".join(current))
    return parts


def _pieces(lines: list[str], budget: int) -> list[str]:
    """Lines, each too long one cut into pieces that fit ``budget``."""
    out: list[str] = []
    for line in lines:
        rest = line
        while encoded(rest) > budget:
            cut = _fitting(rest, budget)
            out.append(rest[:cut])
            rest = rest[cut:]
        out.append(rest)
    return out


def _fitting(line: str, budget: int) -> int:
    """The longest prefix length of ``line`` that fits ``budget`` (at least one character)."""
    low, high = 1, len(line)
    while low < high:
        mid = (low + high + 1) // 2
        if encoded(line[:mid]) <= budget:
            low = mid
        else:
            high = mid - 1
    return low
