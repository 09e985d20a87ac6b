"""Pure conversions for Matrix: text in, commands and customers' lines out; ``Say`` in, content out.

No I/O and no mautrix client here.

Members type at their desk (a DM with the bot): ``!bl ready`` or plain ``ready``. In an
interaction's room (``i7 · chat with Ann``) plain text is ``say i7 TEXT``, ``!bl CMD`` (or
``!CMD``) is the command CMD in i7, and a bare ``accept``/``decline``/``done`` acts on i7.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.port import EDITED, Priority, Say, unmarked

PLATFORM = "matrix"
BARE_COMMANDS = frozenset({"accept", "decline", "done"})
BYE_WORDS = frozenset({"bye", "goodbye", "!bye"})
MAX_BODY = 4000
_ROUTE_PREFIXES = {"group-": "group:", "rp-": "rp:", "queue-": "queue:", "skill-": "skill:"}
_CODE = re.compile(r"`([^`\n]+)`")
PRIORITY_MARKS = {
    Priority.LOW: "",
    Priority.NORMAL: "",
    Priority.HIGH: "(!) ",
    Priority.URGENT: "(!!) ",
}
PRIORITY_COLOURS = {Priority.HIGH: "#c77700", Priority.URGENT: "#c00000"}


# --- ids ------------------------------------------------------------------------------------


def localpart(mxid: str) -> str:
    """``@alice:example.org`` → ``alice``."""
    return mxid.removeprefix("@").removeprefix("#").split(":", 1)[0]


def route_target(route: str) -> str:
    """The target a routing alias or puppet names: ``support`` → ``group:support``."""
    for prefix, kind in _ROUTE_PREFIXES.items():
        if route.startswith(prefix) and len(route) > len(prefix):
            return kind + route.removeprefix(prefix)
    return f"group:{route}"


def puppet_slug(name: str) -> str:
    """A localpart-safe form of a party name: ``Ann Lee`` → ``ann_lee``."""
    slug = re.sub(r"[^a-z0-9._=-]+", "_", name.lower()).strip("_")
    return slug or "customer"


# --- inbound --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """What a member's text in one of our rooms asks for."""

    text: str  # the command text for the core
    context: str | None = None  # the interaction it was written in


def desk_command(body: str, prefix: str) -> str:
    """A member's text at their desk: ``!bl ready`` and ``ready`` are both ``ready``."""
    text = body.strip()
    if text.lower().startswith(prefix.lower()) and text[len(prefix) : len(prefix) + 1] in (
        "",
        " ",
    ):
        return text[len(prefix) :].strip()
    return text


def interaction_command(iid: str, body: str, prefix: str, *, edited: bool = False) -> Typed:
    """A member's text in interaction ``iid``'s room: ``say`` it, unless it is a command.

    An edit is said again, marked ``(edited)``, never run as a command.
    """
    text = body.strip()
    if edited:
        return Typed(f"say {iid} {EDITED}{text}", iid)
    command = desk_command(text, prefix)
    if command != text:
        return Typed(command, iid)
    if text.startswith("!") and len(text) > 1:
        return Typed(text[1:].strip(), iid)
    first = text.split(None, 1)[0].lower() if text else ""
    if first in BARE_COMMANDS and text.lower() in (first, f"{first} {iid}"):
        return Typed(first, iid)
    return Typed(f"say {iid} {text}", iid)  # the id first, so text starting "i3 …" stays text


def customer_text(body: str, *, edited: bool = False) -> tuple[str, bool]:
    """A customer's line and whether it says goodbye."""
    text = body.strip()
    if edited:
        return EDITED + text, False
    return text, text.lower() in BYE_WORDS


# --- outbound -------------------------------------------------------------------------------


def html_body(text: str) -> str:
    """``text`` as escaped HTML: `code` spans kept, line breaks as ``<br>``."""
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return escaped.replace("\n", "<br>")


def content(
    text: str, *, notice: bool = False, priority: Priority = Priority.NORMAL
) -> dict[str, str]:
    """An ``m.room.message`` content: plain body and HTML formatted body (both escaped)."""
    mark = PRIORITY_MARKS[priority]
    formatted = html_body(text)
    colour = PRIORITY_COLOURS.get(priority)
    if colour:
        formatted = f'<font color="{colour}"><b>{html.escape(mark.strip())}</b></font> {formatted}'
    return {
        "msgtype": "m.notice" if notice else "m.text",
        "body": mark + text,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
    }


def edit_of(original: str, body: dict[str, str]) -> dict[str, Any]:
    """``body`` as an ``m.replace`` edit of event ``original`` (shown as the new text)."""
    new = {**body, "body": unmarked(body["body"])}
    if "formatted_body" in body:
        new["formatted_body"] = unmarked(body["formatted_body"])
    shown = {key: f"* {value}" if key in ("body", "formatted_body") else value
             for key, value in new.items()}  # fmt: skip
    return {
        **shown,
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }


def for_member(say: Say) -> dict[str, str]:
    """A message for a member: system notices and replies as ``m.notice``, talk as ``m.text``."""
    return content(say.text, notice=say.notice or say.interaction is None, priority=say.priority)


def for_customer(say: Say) -> dict[str, str] | None:
    """A message for a customer, or None for anything private (CON-2) or a system notice."""
    if say.private or say.notice:
        return None
    return content(say.text)


def room_name(iid: str, label: str) -> str:
    """``i7 · chat with Ann``."""
    return f"{iid} · {label}"


def room_topic(label: str, state: str, live: bool) -> str:
    """What the room is now: ``chat with Ann — active``."""
    return f"{label} — {state if live else 'closed'}"
