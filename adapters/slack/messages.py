"""Message events in: commands at top level, ``say`` in a card's thread, edits and files.

Slack sends what a member writes as a ``message`` event with no subtype, ``thread_broadcast``
(a reply also sent to the channel: still a reply), ``file_share`` (a message with files) or
``message_changed`` (an edit: the new version under ``message``). Other subtypes (joins,
deletions) and bots' messages are not a member writing. Pure: the adapter looks up the
thread's interaction and hands the result to the port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.convert import THREAD_COMMAND_PREFIX, Typed, dig
from adapters.slack.mrkdwn import Names, decode

WRITTEN = frozenset({None, "thread_broadcast", "file_share"})
EDITED = "(edited)"


@dataclass(frozen=True)
class Written:
    """A member's message, decoded; ``thread`` is the thread it replies in, if any."""

    user: str
    text: str
    thread: str | None
    key: str | None
    edited: bool = False
    files: tuple[tuple[str, str], ...] = ()  # (name, link)
    ts: str | None = None  # the message's own ts (an edit keeps the original's)
    event_ts: str | None = None  # this delivery's: an edit's differs from the message's


@dataclass(frozen=True)
class Meant:
    """What a message means: a command to run, and a note for its sender (either may lack)."""

    typed: Typed | None = None
    note: str | None = None


def from_event(event: Mapping[str, Any], event_id: str | None, names: Names) -> Written | None:
    """A ``message`` event as a member's message, or None when no member wrote anything."""
    subtype = event.get("subtype")
    edited = subtype == "message_changed"
    message = event.get("message") if edited else event
    if not isinstance(message, Mapping) or not (edited or subtype in WRITTEN):
        return None
    user, raw = message.get("user"), message.get("text")
    if message.get("bot_id") or event.get("bot_id") or not isinstance(user, str):
        return None
    if edited and raw == dig(event, "previous_message", "text"):
        return None  # a link unfurled or the message re-rendered: not an edit
    text = decode(raw if isinstance(raw, str) else "", names).strip()
    files = tuple(_file(f) for f in message.get("files") or () if isinstance(f, Mapping))
    if not text and not files:
        return None
    thread = message.get("thread_ts")
    in_thread = thread if isinstance(thread, str) and thread != message.get("ts") else None
    key = f"slack:event:{event_id}" if event_id else None
    ts, event_ts = message.get("ts"), event.get("event_ts") or event.get("ts")
    return Written(
        user, text, in_thread, key, edited, files,
        ts if isinstance(ts, str) else None, event_ts if isinstance(event_ts, str) else None,
    )  # fmt: skip


def meaning(written: Written, iid: str | None, files_reach: bool) -> Meant:
    """The command ``written`` is, and what its sender should be told.

    At top level it is the text; in the thread of ``iid`` it is ``say`` (an edit says
    "(edited) …"), or ``!COMMAND`` in that interaction.
    ``files_reach``: whether its files may go on as links (not to a customer, who cannot
    open Slack's links). An edit never runs a command again.
    """
    if written.thread is None:
        return _top_level(written)
    if iid is None:
        return Meant()
    text = written.text
    if text.startswith(THREAD_COMMAND_PREFIX):
        if written.edited:
            return Meant(note="An edited `!` command is not run again; type it anew.")
        return Meant(Typed(written.user, text[1:].strip(), written.key, iid))
    note = None
    if written.files and files_reach:
        text = "\n".join([text, *(f"{name}: {link}" for name, link in written.files)]).strip()
    elif written.files:
        note = f"{_names(written)} not sent: files do not reach customers; paste a link instead."
    origin, corrects = written.ts, None
    if written.edited:
        text = f"{EDITED} {text}"
        origin, corrects = written.event_ts, written.ts
    say = f"say {text}"
    typed = Typed(written.user, say, written.key, iid, origin, corrects) if text else None
    return Meant(typed, note)


def _top_level(written: Written) -> Meant:
    if written.edited:
        return Meant(note="An edited command is not run again; type it anew.")
    note = (
        f"{_names(written)} not sent: files go in an interaction's thread."
        if written.files
        else None
    )
    typed = Typed(written.user, written.text, written.key) if written.text else None
    return Meant(typed, note)


def _names(written: Written) -> str:
    return ", ".join(name for name, _ in written.files)


def _file(data: Mapping[str, Any]) -> tuple[str, str]:
    name = str(data.get("name") or data.get("title") or "a file")
    return name, str(data.get("permalink") or data.get("url_private") or "")
