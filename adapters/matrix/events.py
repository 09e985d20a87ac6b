"""Reading a pushed ``m.room.message`` into what it says (pure; no I/O).

An edit (``m.replace``) carries its new text in ``m.new_content``; a reply's quoted
fallback (``> <@who> …`` lines, ``<mx-reply>`` in HTML) is cut so only the new words count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.matrix.convert import MAX_BODY

TEXT_TYPES = frozenset({"m.text", "m.notice", "m.emote"})


@dataclass(frozen=True)
class Said:
    """A text someone wrote in a room."""

    room_id: str
    sender: str
    event_id: str
    body: str
    edited: bool = False  # an m.replace edit of an earlier message
    reply_to: str | None = None  # the event it replies to
    display: str = ""
    replaces: str | None = None  # an edit's original event


def without_reply_fallback(body: str) -> str:
    """A reply's body without the quoted lines at its top."""
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def read_said(raw: dict[str, Any]) -> Said | None:
    """The text of an ``m.room.message`` event, or None for anything else (files, bad)."""
    body_of = raw.get("content")
    if not isinstance(body_of, dict):
        return None
    relates = body_of.get("m.relates_to")
    relates = relates if isinstance(relates, dict) else {}
    edited = relates.get("rel_type") == "m.replace"
    shown = body_of.get("m.new_content") if edited else body_of
    if not isinstance(shown, dict) or shown.get("msgtype") not in TEXT_TYPES:
        return None
    body = shown.get("body")
    if not isinstance(body, str) or not body.strip():
        return None
    in_reply = relates.get("m.in_reply_to")
    reply_to = in_reply.get("event_id") if isinstance(in_reply, dict) else None
    if reply_to:
        body = without_reply_fallback(body)
    if shown.get("msgtype") == "m.emote":
        body = f"* {body}"
    return Said(
        str(raw.get("room_id", "")),
        str(raw.get("sender", "")),
        str(raw.get("event_id", "")),
        body[:MAX_BODY],
        edited=edited,
        reply_to=str(reply_to) if reply_to else None,
        replaces=str(relates["event_id"]) if edited and relates.get("event_id") else None,
    )
