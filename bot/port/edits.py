"""Corrections relayed as corrections (ADP-6): which platform message a relay came from.

An adapter that takes in a message passes its platform id to the port as ``origin``, and
for a correction (XEP-0308 ``<replace/>``, a Slack ``message_changed``, a Matrix
``m.replace``) the id of the message it corrects as ``corrects``. While the core handles
it, every adapter's ``send`` can ask ``relaying()`` which original the messages of this
commit relay: it remembers the ids it posted them under (``Posted``), and sends a
correction as an edit of the message it posted for the original. An adapter that cannot
edit, or no longer knows the original, delivers the text as it is: the core already
carries it marked ``(edited)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

EDITED = "(edited) "  # how a correction's text is marked for readers without edits


@dataclass(frozen=True)
class Relay:
    """The platform message being handled: ``platform:sender:id``, unique across platforms."""

    origin: str
    corrects: str | None = None  # the original message, when this one corrects it

    @property
    def original(self) -> str:
        """The message a chain of corrections edits: always the first one."""
        return self.corrects or self.origin


# A holder, emptied when its message is handled: timers and tasks started meanwhile copy
# the context, and must not take what they send later for a relay of that message.
_RELAY: ContextVar[list[Relay] | None] = ContextVar("backline_relay", default=None)


def relaying() -> Relay | None:
    """The message the commit being delivered relays, if an adapter said so."""
    holder = _RELAY.get()
    return holder[0] if holder else None


def message_key(platform: str, sender: str, message_id: str | None) -> str | None:
    """``platform:sender:id``, or None without an id."""
    return f"{platform}:{sender}:{message_id}" if message_id else None


@contextmanager
def relayed(
    platform: str, sender: str, origin: str | None, corrects: str | None = None
) -> Iterator[None]:
    """While handling one message from ``sender`` on ``platform`` (no-op without an id)."""
    key = message_key(platform, sender, origin)
    if key is None:
        yield
        return
    holder = [Relay(key, message_key(platform, sender, corrects))]
    token = _RELAY.set(holder)
    try:
        yield
    finally:
        holder.clear()
        _RELAY.reset(token)


def unmarked(text: str) -> str:
    """A correction's text for a reader who sees it as an edit: without the mark."""
    return text.replace(EDITED, "", 1)


class Posted:
    """The ids an adapter posted relays under: (original, recipient) → platform id, bounded."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._ids: OrderedDict[tuple[str, str], str] = OrderedDict()

    def remember(self, relay: Relay | None, recipient: str, posted_id: str) -> None:
        """Keep the id an original was posted under for ``recipient`` (corrections keep it)."""
        if relay is None or relay.corrects is not None:
            return
        self._ids.setdefault((relay.origin, recipient), posted_id)  # its first part
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def edits(self, relay: Relay | None, recipient: str, text: str) -> str | None:
        """For a correction's text (marked), the id its original was posted under."""
        if relay is None or relay.corrects is None or EDITED not in text:
            return None  # other messages of the same commit are not the correction
        return self._ids.get((relay.corrects, recipient))
