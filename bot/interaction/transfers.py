"""Instant transfers and conferences, and what happens when the target accepts (TRF, CNF)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.directory.model import Group, Mailbox, Member
from bot.directory.presence import PresenceState
from bot.errors import CommandError
from bot.interaction.model import Interaction, Offer, PartyRole

if TYPE_CHECKING:
    from bot.interaction.engine import Engine


class Transfers:
    """``transfer [now] TARGET`` and ``conference [now] TARGET`` on a customer interaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _check(self, me: str, ix: Interaction, what: str) -> None:
        if ix.kind in ("consultation", "im"):
            raise CommandError(f"{ix.id} is internal; {what} works on customer interactions.")
        if ix.owner != me:
            raise CommandError(f"Only the owner @{ix.owner} can {what} {ix.id}.")
        if ix.offer is not None:
            pending = ", ".join(f"@{m}" for m in ix.offer.to) or ix.offer.target
            raise CommandError(f"{ix.id} already has a {ix.offer.purpose} pending ({pending}).")

    def explain(self, ix: Interaction, found: Member | Group, *, conference: bool = False) -> str:
        """Who would get it and why, changing nothing (GRP-5).

        A conference never sends the customer to voicemail: unanswered, nobody is added.
        """
        router = self.engine.offers.router
        if isinstance(found, Member):
            if router.available(found.id):
                return f"{found.ref} is ready: it would ring {found.ref}."
            rule = "nobody would be added" if conference else self.unavailable_rule(ix)
            return f"{router.unavailable_reason(found).capitalize()}: {rule}."
        plan = router.plan(found, self._exclude(ix), ix.kind)
        if conference and plan.when_empty == "voicemail":
            plan = replace(plan, when_empty="wait")
        return plan.explain(self.engine.core.policy.routing.wait_for(ix.kind))

    def unavailable_rule(self, ix: Interaction) -> str:
        """What a transfer to an unavailable member does (TRF-6)."""
        policy = self.engine.core.policy.transfer
        if ix.is_voice():
            return (
                "the call would go to their voicemail"
                if policy.to_voicemail_when_unavailable
                else "the transfer would fail"
            )
        return {
            "fail": "the transfer would fail",
            "queue": "it would wait for them",
            "message": "the customer would leave them a message",
        }[policy.chat_when_unavailable]

    def _exclude(self, ix: Interaction) -> tuple[str, ...]:
        return tuple(ix.members())

    async def transfer(self, me: str, ix: Interaction, found: Member | Group) -> str:
        """Offer ownership of ``ix`` to the target; the caller waits on hold (TRF-1, TRF-4)."""
        self._check(me, ix, "transfer")
        if found.ref == f"@{me}":
            raise CommandError("You already own it.")
        self.engine.event(ix, "transfer_requested", {"to": found.ref}, actor=me)
        wait = False
        if isinstance(found, Member) and not self.engine.offers.router.available(found.id):
            unavailable = await self.to_unavailable(me, ix, found)
            if unavailable:
                return unavailable
            wait = True
        was_held = ix.state == "held"
        await self.engine.fire(ix, "transfer")
        if ix.state == "held" and not was_held:
            self.engine.lifecycle.customer_hears(ix, "You are on hold.")
        self.engine.core.directory.contacts.record_contact(me, found.ref)
        note = await self.engine.offers.start(
            ix, "transfer", found, me, tried=self._exclude(ix), wait=wait
        )
        self.engine.save(ix)
        held = " The caller is on hold." if ix.state == "held" else ""
        return f"Transferring {ix.id}: {note}{held}" if note else ""

    async def to_mailbox(self, me: str, ix: Interaction, box: Mailbox) -> str:
        """``transfer vm:MAILBOX``: the customer leaves a message there on purpose (TRF-6)."""
        self._check(me, ix, "transfer")
        if not ix.customer:
            raise CommandError(f"{ix.id} has no customer to leave a message; `end` it instead.")
        self.engine.event(ix, "transfer_requested", {"to": f"vm:{box.id}"}, actor=me)
        self.engine.core.directory.contacts.record_contact(me, f"vm:{box.id}")
        name = self.engine.core.mailboxes.owner_name(box)
        await self.engine.lifecycle.leave_in_mailbox(
            ix,
            box.id,
            None,
            f"You are through to the voicemail of {name}: your message has been left, "
            "and we will get back to you.",
        )
        return f"{ix.id} went to vm:{box.id}. Mark it `done {ix.id}` when your notes are complete."

    async def to_unavailable(self, me: str, ix: Interaction, member: Member) -> str:
        """TRF-6: a busy, not-ready or logged-off member: voicemail, fail, queue or message."""
        policy = self.engine.core.policy.transfer
        router = self.engine.offers.router
        reason = router.unavailable_reason(member)
        offer = Offer("transfer", (), member.ref, me, self.engine.core.clock.now())
        wants_voicemail = (
            policy.to_voicemail_when_unavailable
            if ix.is_voice()
            else policy.chat_when_unavailable == "message"
        )
        if wants_voicemail and await self.engine.lifecycle.to_voicemail(ix, offer, member):
            where = "voicemail" if ix.is_voice() else "messages"
            return f"{reason[0].upper()}{reason[1:]}; {ix.id} went to {member.ref}'s {where}."
        if not ix.is_voice() and policy.chat_when_unavailable == "queue":
            return ""  # offered when they are ready: the normal path waits for them
        raise CommandError(
            f"{reason[0].upper()}{reason[1:]}, so {ix.id} stays with you. "
            f"Try `im {member.ref}` or another target."
        )

    async def transferred(
        self, ix: Interaction, me: str, offer: Offer, *, tell_old: bool = True
    ) -> str:
        """The target accepted: ownership moves, the old owner is released (TRF-2, TRF-3)."""
        old = ix.owner
        await self.engine.fire(ix, "transferred")
        self.engine.set_owner(ix, me)
        if old:
            self.engine.release(ix, f"@{old}")
            if tell_old:
                self.engine.tell(f"@{old}", f"@{me} took over {ix.id}. Mark it `done {ix.id}`.", ix)
            await self.engine.supervision.agent_left(old, ix)
            if self.engine.core.policy.transfer.after_call_work and ix.customer:
                directory = self.engine.core.directory
                if directory.presence(old).state is PresenceState.READY:
                    told = self.engine.lifecycle.enter_after_call_work(old)
                    self.engine.tell(f"@{old}", told, ix)
        self.engine.lifecycle.customer_hears(
            ix, f"You are now with {self.engine.talk.display_name('@' + me)}."
        )
        await self.engine.supervision.follow(me, ix)
        self.engine.notify("interaction.transferred", ix)
        return self.engine.lifecycle.briefing(ix, f"You now own {ix.label} (from @{old}).")

    async def conference(self, me: str, ix: Interaction, found: Member | Group) -> str:
        """Invite the target to join ``ix``; the conference starts when they accept (CNF-1)."""
        self._check(me, ix, "conference")
        if isinstance(found, Member) and ix.party(found.ref) and ix.party(found.ref).connected:  # type: ignore[union-attr]
            raise CommandError(f"{found.ref} is already in {ix.id}.")
        await self.engine.fire(ix, "conference")
        self.engine.core.directory.contacts.record_contact(me, found.ref)
        note = await self.engine.offers.start(ix, "conference", found, me, tried=self._exclude(ix))
        self.engine.save(ix)
        return f"Conference on {ix.id}: {note}" if note else ""

    async def joined(self, ix: Interaction, me: str, offer: Offer) -> str:
        """The invited member accepted: they join as a member (CNF-1, CNF-7)."""
        was_held = ix.state == "held"
        await self.engine.fire(ix, "join")
        if was_held and ix.state != "held":  # the caller is brought into the conference
            self.engine.lifecycle.customer_hears(ix, "You are off hold.")
        self.engine.join(ix, f"@{me}", PartyRole.MEMBER)
        self.engine.lifecycle.members_hear(ix, f"@{me} joined {ix.id}.", but=f"@{me}")
        if self.engine.core.policy.conference.announce_to_customer:
            self.engine.lifecycle.customer_hears(
                ix, f"{self.engine.talk.display_name('@' + me)} joined."
            )
        return self.engine.lifecycle.briefing(ix, f"You joined the conference on {ix.label}.")
