"""What adapters hand to the core: platform-neutral inbound events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A member typed something to backline.

    ``key`` is the platform's delivery id (Slack ``event_id``, an XMPP stanza id): a
    retried delivery with the same key acts once. ``context`` is the interaction a
    message was written in (a thread, a room, a contact JID), when the platform knows it.
    """

    platform: str
    sender: str
    text: str
    key: str | None = None
    context: str | None = None
