"""The voice read model: an interaction's legs as a phone system needs them (ADP-5).

``bot.port.views`` shows an interaction as a member reads it; a phone system needs who is
connected with which role, who is muted, who supervises whom, whom an offer rings, and
which member answers to an extension. ``Voice`` gives exactly that, frozen; plus the
voicemail a call left (MSG-4), the message a session is on (MSG-5), and the one write a
phone system adds: the recording of a message, kept with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.port.views import find

if TYPE_CHECKING:
    from bot.core import Core


@dataclass(frozen=True)
class VoiceLeg:
    """One party of a voice interaction."""

    who: str  # "@alice" or "customer:Ann"
    role: str  # customer, owner, consultant, member, monitor, coach, barger
    connected: bool
    muted: bool = False
    about: str | None = None  # a supervisor's agent (member id)

    @property
    def member(self) -> str | None:
        """The member id, or None for the customer."""
        return self.who[1:] if self.who.startswith("@") else None


@dataclass(frozen=True)
class VoiceCall:
    """A voice interaction (a call, or a voice consultation) as its legs see it."""

    iid: str
    kind: str  # voice, consultation, voicemail
    state: str  # queued, recording, offered, active, held, wrapup, ended, closed
    live: bool
    target: str | None = None  # what the caller asked for: "vm:alice", "rp:sales"
    parent: str | None = None  # a consultation's call
    customer: str | None = None  # "customer:Ann"
    owner: str | None = None
    ringing: tuple[str, ...] = ()  # member ids an offer rings now
    offer: str | None = None  # route, transfer, conference, consult
    legs: tuple[VoiceLeg, ...] = ()

    def leg(self, who: str) -> VoiceLeg | None:
        """The party ``@alice`` / ``customer:Ann``."""
        return next((leg for leg in self.legs if leg.who == who), None)


class Voice:
    """Voice read models over the core (one per port)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def call(self, iid: str) -> VoiceCall | None:
        """Interaction ``iid`` if it is a voice call, a voice consultation or a voicemail."""
        core = self._core
        ix = find(core, iid)
        if ix is None or not (ix.kind in ("voice", "voicemail") or ix.mode == "voice"):
            return None
        offer = ix.offer
        return VoiceCall(
            iid=ix.id,
            kind=ix.kind,
            state=ix.state,
            live=ix.live,
            target=ix.target,
            parent=ix.parent,
            customer=ix.customer_ref(),
            owner=ix.owner,
            ringing=tuple(offer.to) if offer and ix.live else (),
            offer=offer.purpose if offer else None,
            legs=tuple(
                VoiceLeg(p.who, p.role.value, p.connected, p.muted, p.about)
                for p in ix.parties.values()
            ),
        )

    async def calls(self, iids: Iterable[str]) -> dict[str, VoiceCall]:
        """Several calls read between commits (never halfway through a command)."""
        async with self._core.store.lock:
            return {iid: found for iid in iids if (found := self.call(iid)) is not None}

    def member_at(self, extension: str) -> str | None:
        """The member whose ``voice`` extension (or SIP address) is ``extension``."""
        return self._core.directory.data.by_voice.get(extension)

    def left_message(self, iid: str) -> int | None:
        """The voicemail call ``iid`` left (a transfer to an unavailable member, a vm: call)."""
        core = self._core
        ix = find(core, iid)
        if ix is None or ix.customer is None:
            return None
        boxes = [e.data.get("mailbox") for e in core.store.events(subject=iid, kind="voicemail")]
        if not boxes:
            return None
        mine = [m for m in core.mailboxes.messages(str(boxes[-1])) if m.caller == ix.customer]
        return max((m.id for m in mine), default=None)

    def session_message(self, iid: str) -> tuple[int, str | None] | None:
        """A voicemail session's selected message: its id and recording, if any."""
        core = self._core
        ix = find(core, iid)
        if ix is None or ix.kind != "voicemail" or "current" not in ix.case:
            return None
        for message in core.mailboxes.messages(ix.case["mailbox"]):
            if str(message.id) == ix.case["current"]:
                return message.id, message.media
        return None

    def counts(self, mailbox: str) -> tuple[int, int]:
        """``(new, old)`` messages of a mailbox (the message-waiting indicator)."""
        return self._core.mailboxes.counts(mailbox)

    async def recorded(self, message_id: int, media: str, seconds: float) -> None:
        """Keep the recording of voicemail ``message_id`` (a WAV path) with the message."""
        core = self._core

        async def keep() -> None:
            core.store.conn.execute(
                "UPDATE voicemails SET media = ?, duration = ? WHERE id = ?",
                (media, seconds, message_id),
            )

        await core.act(keep)

    def extension_of(self, member_id: str) -> str | None:
        """The member's ``voice`` extension, if they have one."""
        member = self._core.directory.data.members.get(member_id)
        return member.voice if member else None
