"""Interactions and their parties, the models of the kind machines.

Tens of thousands are live at once, so each is small: slotted classes (no per-object
``__dict__``) and no attributes added by the machine (see ``bot.interaction.machines``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from transitions import MachineError

from bot.interaction.machines import TERMINAL, InteractionMachine

_EVENT_ID = struct.Struct("=q")  # native order, as memoryview.cast reads it back


class PartyRole(StrEnum):
    """How a party takes part in an interaction."""

    CUSTOMER = "customer"
    OWNER = "owner"
    CONSULTANT = "consultant"
    MEMBER = "member"  # added by a conference
    MONITOR = "monitor"  # hears all, heard by none (SUP-1)
    COACH = "coach"  # heard by the agent only (SUP-2)
    BARGER = "barger"  # heard by all (SUP-3)


SUPERVISING = frozenset({PartyRole.MONITOR, PartyRole.COACH, PartyRole.BARGER})
# Parties that handled the interaction and so mark it done themselves (INT-4).
HANDLERS = frozenset({PartyRole.OWNER, PartyRole.CONSULTANT, PartyRole.MEMBER})


@dataclass(slots=True)
class Party:
    """Someone connected (or once connected) to an interaction."""

    who: str  # "@alice" or "customer:Ann"
    role: PartyRole
    joined: float
    connected: bool = True
    muted: bool = False
    done: bool = False
    about: str | None = None  # for a supervisor: the agent they supervise

    @property
    def member_id(self) -> str | None:
        """The member id, or None for a customer."""
        return self.who[1:] if self.who.startswith("@") else None


@dataclass(slots=True)
class Offer:
    """Work offered to members who have not accepted yet: a route, transfer or conference."""

    purpose: str  # "route", "transfer", "conference", "consult", "im"
    to: tuple[str, ...]  # members it rings (one, or a whole group for IM-5); () while waiting
    target: str  # what was asked for: "@bob", "group:support"
    by: str | None  # the member who asked, None for a customer's routing
    expires: float  # the accept deadline while ringing, the wait deadline while waiting
    tried: tuple[str, ...] = ()  # members who declined or let it time out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the store."""
        return {
            "purpose": self.purpose,
            "to": list(self.to),
            "target": self.target,
            "by": self.by,
            "expires": None if math.isinf(self.expires) else self.expires,  # JSON has no inf
            "tried": list(self.tried),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Offer:
        """Rebuild from the store."""
        return cls(
            data["purpose"],
            tuple(data["to"]),
            data["target"],
            data["by"],
            math.inf if data["expires"] is None else data["expires"],
            tuple(data["tried"]),
        )


class Journal(Protocol):
    """Where state changes are recorded (the engine)."""

    def state_changed(self, interaction: Interaction, source: str, trigger: str) -> None:
        """Record one transition."""


@dataclass(eq=False, slots=True)
class Interaction:
    """One live interaction; ``state`` is set by its kind's machine, triggers fire through it."""

    id: str
    kind: str
    created: float
    journal: Journal
    customer: str | None = None  # the customer's name
    parent: str | None = None  # the interaction a consultation or IM is about
    mode: str | None = None  # consultation medium: voice, chat, im
    target: str | None = None  # what routing is looking for
    owner: str | None = None  # member id; exactly one while live
    initiator: str | None = None  # who started a consultation or IM
    case: dict[str, str] = field(default_factory=dict)
    parties: dict[str, Party] = field(default_factory=dict)
    offer: Offer | None = None
    disposition: str | None = None
    state: str = ""
    machine: InteractionMachine | None = field(default=None, init=False, repr=False)
    events: bytes = field(default=b"", repr=False)
    """The ids of its events in the log, oldest first, as 8-byte integers (``event_ids``;
    the log has no index by subject). Bytes refer to nothing: the collector never tracks
    them, and an interaction stays one tracked object."""
    transcript: tuple[str, ...] | None = field(default=None, init=False, repr=False)
    """What a customer could see said so far, while it is short (``bot.interaction.talk``);
    None: read from the log when asked."""

    def logged(self, event_id: int) -> None:
        """Its event ``event_id`` was appended to the log."""
        self.events += _EVENT_ID.pack(event_id)

    def event_ids(self) -> list[int]:
        """The ids of its events, oldest first."""
        return memoryview(self.events).cast("q").tolist()

    async def trigger(self, name: str) -> bool:
        """Fire the machine trigger ``name``; ``MachineError`` once out of its machine."""
        if self.machine is None:
            raise MachineError(f"{self.id} is in no machine")
        return await self.machine.fire(self, name)

    # -- conditions and callbacks named by rules/machines/*.yaml ---------------------

    def all_done(self, event: Any = None) -> bool:
        """Every member who handled it has left and marked it done (INT-4, CON-6)."""
        return all(p.done for p in self.parties.values() if p.role in HANDLERS)

    def is_voice(self, event: Any = None) -> bool:
        """A call, or a voice consultation."""
        return self.kind == "voice" or self.mode == "voice"

    def record_state(self, event: Any) -> None:
        """Record every state change as an event (INT-5)."""
        self.journal.state_changed(self, event.transition.source, event.event.name)

    # -- reading ------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """Not yet closed."""
        return self.state != TERMINAL

    @property
    def label(self) -> str:
        """``i3 chat with Ann`` / ``i4 consultation about i3``."""
        if self.kind == "consultation":
            return f"{self.id} {self.mode} consultation about {self.parent}"
        if self.customer:
            return f"{self.id} {self.kind} with {self.customer}"
        if self.kind == "voice":
            return f"{self.id} internal call"
        return f"{self.id} {self.kind}"

    def party(self, who: str) -> Party | None:
        """The party ``@alice`` or ``customer:Ann``."""
        return self.parties.get(who)

    def connected(self) -> list[Party]:
        """Parties still connected."""
        return [p for p in self.parties.values() if p.connected]

    def members(self, *roles: PartyRole) -> list[str]:
        """Connected member ids, optionally only those with one of ``roles``."""
        return [
            p.who[1:]
            for p in self.parties.values()
            if p.connected and p.member_id and (not roles or p.role in roles)
        ]

    def customer_ref(self) -> str | None:
        """``customer:NAME`` when a customer takes part."""
        return f"customer:{self.customer}" if self.customer else None
