"""Routing: who gets work aimed at a member, group, skill, queue or routing point (GRP-3).

Groups and their kin are never parties: work aimed at one rings one available member, by
``routing.choose``: ``longest_idle`` (idle since they last finished or were offered work, then
fewest live interactions of that kind) or ``fewest_interactions`` (the other way round); the
one ready longest breaks a tie. With nobody available the work waits up to
``routing.wait_for_agent``; the group's ``when_empty`` policy decides what happens then
(GRP-5). ``explain`` says all of that without changing anything.
"""

from __future__ import annotations

import math
from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.directory.model import Group, GroupKind, Member
from bot.directory.presence import PresenceState
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from bot.directory.service import Directory
    from bot.interaction.engine import Engine


@dataclass(frozen=True)
class Plan:
    """What routing would do with a target now."""

    target: str
    ring: tuple[str, ...]  # members to offer to now
    when_empty: str  # the policy if nobody is available: wait, voicemail, refuse, fallback:G
    ready: int  # available members of the target now

    def explain(self, wait: float) -> str:
        """The decision in words (GRP-5 ``--explain``)."""
        if self.ring:
            chosen = ", ".join(f"@{m}" for m in self.ring)
            return f"{self.target}: {self.ready} ready now; it would ring {chosen} (longest idle)."
        if self.when_empty == "refuse":
            return f"{self.target}: nobody ready now, and its policy is to refuse at once."
        then = {
            "wait": "then fail with a message",
            "voicemail": "then go to its voicemail",
        }.get(self.when_empty, f"then go to group:{self.when_empty.removeprefix('fallback:')}")
        if math.isinf(wait):
            return f"{self.target}: nobody ready now; it would wait until someone is ready."
        return (
            f"{self.target}: nobody ready now; it would wait up to {format_duration(wait)}, {then}."
        )


class Router:
    """Chooses members for targets."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.offered_at: dict[str, float] = {}  # member → when work last rang them

    @property
    def directory(self) -> Directory:
        """The directory (presence, groups)."""
        return self.engine.core.directory

    def members_of(self, found: Member | Group) -> list[str]:
        """The members a target stands for: queues and routing points through their groups."""
        if isinstance(found, Member):
            return [found.id]
        if found.kind in (GroupKind.GROUP, GroupKind.SKILL):
            return list(found.members)
        out: list[str] = []
        for ref in found.routes_to:
            group = self.directory.data.groups.get(ref)
            if group is not None:
                out += [m for m in self.members_of(group) if m not in out]
        return out

    def ringing(self, member_id: str) -> bool:
        """Whether the member already has an offer ringing."""
        return member_id in self.engine.ringing_members()

    def available(self, member_id: str, ringing: Set[str] | None = None) -> bool:
        """Ready, not busy, and not already being offered something.

        ``ringing`` (``Engine.ringing_members``) saves a pass over every offer when one
        caller asks about many members.
        """
        presence = self.directory.presence(member_id)
        if not presence.available:
            return False
        return member_id not in (self.engine.ringing_members() if ringing is None else ringing)

    def signed_in(self, member_id: str) -> bool:
        """Logged in and not answering another offer: enough to receive an IM (IM-1)."""
        presence = self.directory.presence(member_id)
        return presence.state is not PresenceState.LOGGED_OFF and not self.ringing(member_id)

    def choose(
        self,
        found: Member | Group,
        exclude: tuple[str, ...] = (),
        kind: str | None = None,
        *,
        voice: bool = False,
    ) -> list[str]:
        """Available members of the target, the best first (GRP-3, ``routing.choose``).

        Live interactions count those of ``kind`` (of any kind when None); ``voice`` work
        skips members already on a call in any role (one voice leg each).
        """
        ringing = self.engine.ringing_members()
        members = [
            m
            for m in self.members_of(found)
            if m not in exclude
            and self.available(m, ringing)
            and not (voice and self.engine.calls.busy_on_voice(m))
        ]
        return sorted(members, key=lambda m: self._order(m, kind))

    def _order(self, member_id: str, kind: str | None) -> tuple[float, float, float]:
        engine = self.engine
        live = engine.connected_count(member_id, kind)
        idle = max(engine.free_since.get(member_id, 0.0), self.offered_at.get(member_id, 0.0))
        ready = self.directory.presence(member_id).since
        if engine.core.policy.routing.choose == "fewest_interactions":
            return live, idle, ready
        return idle, live, ready

    def when_empty(self, found: Member | Group) -> str:
        """The group's policy for nobody available (GRP-5); a member is never waited for."""
        policy = self.engine.core.policy
        if isinstance(found, Member):
            return "refuse"
        if found.kind is GroupKind.GROUP:
            return policy.when_empty(found.id)
        return policy.groups.when_empty

    def plan(
        self,
        found: Member | Group,
        exclude: tuple[str, ...] = (),
        kind: str | None = None,
        *,
        voice: bool = False,
    ) -> Plan:
        """Who would be offered the work now, or what happens if nobody can be."""
        chosen = self.choose(found, exclude, kind, voice=voice)
        return Plan(found.ref, tuple(chosen[:1]), self.when_empty(found), len(chosen))

    def unavailable_reason(self, member: Member) -> str:
        """``@bob is not ready (lunch)`` / ``@bob is busy`` / ``@bob has an offer ringing``."""
        presence = self.directory.presence(member.id)
        if presence.available and self.ringing(member.id):
            return f"{member.ref} is answering another offer"
        if presence.available and self.engine.calls.busy_on_voice(member.id):
            return f"{member.ref} is on a call"
        if presence.state is PresenceState.LOGGED_OFF:
            return f"{member.ref} is logged off"
        return f"{member.ref} is {presence.describe()}"
