"""Supervisor monitor, coach and barge-in (SUP-1..7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Member
from bot.errors import CommandError
from bot.interaction.machines import CUSTOMER_KINDS
from bot.interaction.model import HANDLERS, SUPERVISING, Interaction, PartyRole

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

MODES = {"monitor": PartyRole.MONITOR, "coach": PartyRole.COACH, "barge": PartyRole.BARGER}
VERBS = {
    PartyRole.MONITOR: "monitoring",
    PartyRole.COACH: "coaching",
    PartyRole.BARGER: "barging in on",
}


class Supervision:
    """Supervisors join an agent's interaction as monitor, coach or barger."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def eligible(self, supervisor: str, agent: Member) -> None:
        """Only supervisors of the agent's groups, where the rule says so (SUP-6)."""
        if not self.engine.core.policy.supervision.own_groups_only:
            return
        groups = self.engine.core.directory.data.groups
        if not any(supervisor in groups[f"group:{g}"].supervisors for g in agent.groups):
            raise CommandError(f"You do not supervise any group of {agent.ref}.")

    def agent_interaction(self, agent: Member) -> Interaction | None:
        """The agent's current customer interaction."""
        current = self.engine.current(agent.id)
        candidates = [current] if current else []
        candidates += reversed(self.engine.interactions_of(agent.id))
        for ix in candidates:
            party = ix.party(agent.ref)
            if (
                ix.kind in CUSTOMER_KINDS
                and party
                and party.connected
                and party.role not in SUPERVISING
            ):
                return ix
        return None

    async def supervise(self, me: str, agent: Member, mode: str, *, next_: bool = False) -> str:
        """``monitor``/``coach``/``barge`` ``@agent``, switching mode on the fly (SUP-4)."""
        if agent.id == me:
            raise CommandError("You cannot supervise yourself.")
        self.eligible(me, agent)
        if next_:
            self.engine.records.subscribe(me, agent.id, mode, self.engine.core.clock.now())
            return (
                f"You will monitor {agent.ref}'s next interactions until `unmonitor {agent.ref}`."
            )
        ix = self.agent_interaction(agent)
        if ix is None:
            raise CommandError(
                f"{agent.ref} has no live interaction. "
                f"`monitor {agent.ref} next` watches the next one."
            )
        return await self.join(me, agent, ix, MODES[mode])

    async def join(self, me: str, agent: Member, ix: Interaction, role: PartyRole) -> str:
        """Join ``ix`` as ``role``, or switch to it if already supervising."""
        party = ix.party(f"@{me}")
        switching = party is not None and party.connected and party.role in SUPERVISING
        if party is not None and party.connected and not switching:
            raise CommandError(f"You are already a party of {ix.id}.")
        if (
            not switching
            and ix.is_voice()
            and self.voice_load(me) >= self.engine.core.policy.supervision.max_voice
        ):
            raise CommandError("You already supervise a voice interaction; `leave` it first.")
        await self.engine.fire(ix, "supervise")
        if switching and party is not None and party.role is PartyRole.BARGER:
            name = self.engine.talk.display_name(f"@{me}")
            self.engine.lifecycle.customer_hears(ix, f"{name} left.")  # silent from now on
        party = self.engine.join(ix, f"@{me}", role)
        party.about = agent.id
        self.engine.event(
            ix, "supervising", {"who": f"@{me}", "mode": role.value, "agent": agent.ref}, actor=me
        )
        self.announce(me, agent, ix, role)
        self.engine.set_focus(me, ix.id)
        self.engine.save(ix)
        headline = f"You are {VERBS[role]} {agent.ref} on {ix.label}."
        if switching or not self.engine.talk.transcript(ix):
            return headline
        return self.engine.lifecycle.briefing(ix, headline)  # joined mid-chat: catch up

    def announce(self, me: str, agent: Member, ix: Interaction, role: PartyRole) -> None:
        """Barge is heard by all; otherwise only the agent is told, and only if the rule says."""
        if role is PartyRole.BARGER:
            self.engine.lifecycle.members_hear(ix, f"@{me} barged in on {ix.id}.", but=f"@{me}")
            self.engine.lifecycle.customer_hears(
                ix, f"{self.engine.talk.display_name('@' + me)} joined."
            )
        elif self.engine.core.policy.supervision.notify_agent:
            self.engine.tell(agent.ref, f"@{me} is {VERBS[role]} you on {ix.id}.", ix)

    def voice_load(self, me: str) -> int:
        """Voice interactions the supervisor is supervising now."""
        return sum(
            1
            for ix in self.engine.interactions_of(me)
            if ix.is_voice() and ix.parties[f"@{me}"].role in SUPERVISING
        )

    async def leave(self, me: str, ix: Interaction) -> str:
        """Stop supervising ``ix``; the interaction is unaffected (SUP-4, SUP-7)."""
        party = ix.party(f"@{me}")
        assert party is not None
        self.engine.release(ix, f"@{me}")
        if party.role is PartyRole.BARGER:  # heard by all, so all hear them go (SUP-3)
            self.engine.lifecycle.members_hear(ix, f"@{me} left {ix.id}.")
            self.engine.lifecycle.customer_hears(
                ix, f"{self.engine.talk.display_name('@' + me)} left."
            )
        elif self.engine.core.policy.supervision.notify_agent and party.about:
            self.engine.tell(f"@{party.about}", f"@{me} stopped supervising you on {ix.id}.", ix)
        self.engine.save(ix)
        return f"You stopped supervising {ix.id}."

    async def unmonitor(self, me: str, agent: Member) -> str:
        """End a current monitor of ``agent`` and a ``monitor @agent next`` follow (SUP-7)."""
        current = [
            ix
            for ix in self.engine.interactions_of(me)
            if (p := ix.parties[f"@{me}"]).role in SUPERVISING and p.about == agent.id
        ]
        followed = self.engine.records.unsubscribe(me, agent.id)
        if not current and not followed:
            raise CommandError(f"You are neither supervising nor following {agent.ref}.")
        done = []
        if current:
            for ix in current:
                await self.leave(me, ix)
            done.append(f"stopped supervising {agent.ref} on {', '.join(ix.id for ix in current)}")
        if followed:
            done.append(f"no longer follow {agent.ref}'s next interactions")
        return f"You {' and '.join(done)}."

    async def follow(self, agent_id: str, ix: Interaction) -> None:
        """The agent took new work: subscribed supervisors join it (SUP-5)."""
        agent = self.engine.core.directory.member(agent_id)
        for supervisor, mode in self.engine.records.subscribers(agent_id):
            if ix.party(f"@{supervisor}") is not None:
                continue
            try:
                reply = await self.join(supervisor, agent, ix, MODES[mode])
            except CommandError as exc:
                reply = f"Could not follow {agent.ref} to {ix.id}: {exc.message}"
            self.engine.tell(f"@{supervisor}", reply, ix)

    async def agent_left(self, agent_id: str, ix: Interaction) -> None:
        """With ``supervision.scope: agent``, supervision ends when the agent leaves.

        With ``scope: call`` it stays on the call and follows its new owner (a coach
        whispers to whoever handles it now).
        """
        if self.engine.core.policy.supervision.scope != "agent":
            handlers = [m for m in ix.members(*HANDLERS) if m != agent_id]
            now = ix.owner if ix.owner in handlers else next(iter(handlers), None)
            for party in ix.connected():
                if party.role in SUPERVISING and party.about == agent_id and now:
                    party.about = now
                    self.engine.tell(
                        party.who,
                        f"@{agent_id} left {ix.id}; you are now {VERBS[party.role]} @{now}.",
                        ix,
                    )
            return
        for party in ix.connected():
            if party.role in SUPERVISING and party.about == agent_id and party.member_id:
                self.engine.release(ix, party.who)
                self.engine.tell(
                    party.who, f"@{agent_id} left {ix.id}; your supervision ended.", ix
                )
