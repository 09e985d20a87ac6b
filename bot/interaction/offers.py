"""Offers: ringing members, accepting, declining, timing out, waiting for someone (INT-3, GRP-3).

An offer belongs to one interaction. For ``route``, ``consult`` and ``im`` the interaction
itself is what is offered and its machine moves queued → offered → active. For ``transfer``
and ``conference`` the offer rides on a live interaction whose state stays as it is.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.directory.model import Group, Member
from bot.directory.presence import PresenceState
from bot.errors import CommandError
from bot.interaction.model import Interaction, Offer
from bot.interaction.routing import Router
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

OWN = frozenset({"route", "consult", "im", "call"})  # the offered thing is the interaction itself
WAIT_PLEASE = "Please hold, we are finding someone for you."
STILL_LOOKING = "Thank you for waiting; we are still finding someone for you."
MISSED = "missed offer"  # the not-ready reason of a member who let an offer time out


class Offers:
    """Starts offers and settles them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.router = Router(engine)
        self.last_rung: dict[str, str] = {}  # member -> the interaction that rang them last

    @property
    def now(self) -> float:
        """The clock's time."""
        return self.engine.core.clock.now()

    def _timeout(self, purpose: str) -> float:
        policy = self.engine.core.policy
        if purpose in ("consult", "im", "call"):
            return policy.consult.accept_timeout
        return policy.routing.accept_timeout

    # -- starting --------------------------------------------------------------------

    async def start(
        self,
        ix: Interaction,
        purpose: str,
        found: Member | Group,
        by: str | None,
        *,
        tried: tuple[str, ...] = (),
        everyone: bool = False,
        wait: bool = False,
    ) -> str:
        """Offer ``ix`` to the target; returns what the requester is told.

        ``everyone`` rings every available member at once (IM-5 ``all``); ``wait`` waits for
        an unavailable member instead of failing (TRF-6 ``queue``).
        """
        voice = ix.is_voice()
        plan = self.router.plan(found, tried, ix.kind, voice=voice)
        ring = (
            tuple(self.router.choose(found, tried, ix.kind, voice=voice)) if everyone else plan.ring
        )
        if (
            not ring
            and purpose == "im"
            and isinstance(found, Member)
            and self.router.signed_in(found.id)
        ):
            ring = (found.id,)  # an IM reaches a colleague who is busy or not ready, too
        if ring:
            await self._ring(
                ix, Offer(purpose, ring, found.ref, by, self.now + self._timeout(purpose), tried)
            )
            names = ", ".join(f"@{m}" for m in ring)
            return (
                f"Offered to {names}."
                if found.ref.startswith("@")
                else f"{found.ref}: offered to {names}."
            )
        if not wait and (plan.when_empty == "refuse" or isinstance(found, Member)):
            reason = (
                self.router.unavailable_reason(found)
                if isinstance(found, Member)
                else f"nobody in {found.ref} is available"
            )
            await self.fail(ix, purpose, by, f"{reason[0].upper()}{reason[1:]}.", found)
            return ""
        seconds = self.engine.core.policy.routing.wait_for(ix.kind)
        ix.offer = Offer(purpose, (), found.ref, by, self.now + seconds, tried)
        self.engine.arm(ix, "offer", ix.offer.expires, self.expiry(ix))
        until = None if math.isinf(seconds) else ix.offer.expires
        self.engine.event(ix, "waiting", {"target": found.ref, "until": until})
        self.engine.save(ix)
        who = f"{found.ref} is not" if isinstance(found, Member) else f"nobody in {found.ref} is"
        if math.isinf(seconds):
            return f"{who} available now; it waits, in arrival order, until someone is ready."
        return f"{who} available now; waiting up to {format_duration(seconds)}."

    async def _ring(self, ix: Interaction, offer: Offer, *, waited: bool = False) -> None:
        ix.offer = offer
        if offer.purpose in OWN and ix.state == "queued":
            await self.engine.fire(ix, "ring")
        self.engine.arm(ix, "offer", offer.expires, self.expiry(ix))
        for member_id in offer.to:
            self.router.offered_at[member_id] = self.now
            self.last_rung[member_id] = ix.id
        self.engine.event(
            ix, "offered", {"to": [f"@{m}" for m in offer.to], "purpose": offer.purpose}
        )
        text = self.invitation(ix, offer)
        if waited and offer.purpose == "route":  # customer work shows its age (GRP-3)
            text += f" It waited {format_duration(max(1, round(self.now - ix.created)))}."
        for member_id in offer.to:
            self.engine.tell(f"@{member_id}", text, ix)
        self.engine.save(ix)

    def invitation(self, ix: Interaction, offer: Offer) -> str:
        """What a rung member sees."""
        wait = format_duration(max(1, round(offer.expires - self.now)))
        by = f"@{offer.by}" if offer.by else (ix.customer or "someone")
        what = {
            "route": f"New {'call' if ix.kind == 'voice' else ix.kind} from {ix.customer or by}",
            "consult": f"@{offer.by} asks you to consult ({ix.mode}) on {ix.parent}",
            "im": f"@{offer.by} wants to IM with you",
            "call": f"@{offer.by} is calling you",
            "transfer": f"@{offer.by} transfers {ix.label} to you",
            "conference": f"@{offer.by} invites you to a conference on {ix.label}",
        }[offer.purpose]
        via = f" via {offer.target}" if not offer.target.startswith("@") else ""
        subject = next(iter(ix.case.values()), None)
        about = f": “{subject}”" if subject else ""
        return f"{what}{via}{about}. `accept {ix.id}` or `decline {ix.id}` within {wait}."

    def expiry(self, ix: Interaction) -> Callable[[], Awaitable[None]]:
        """The offer timer's callback for ``ix``."""

        async def expired() -> None:
            await self.expired(ix)

        return expired

    # -- settling -------------------------------------------------------------------

    def pending_for(self, member_id: str) -> list[Interaction]:
        """Interactions with an offer ringing this member, oldest first."""
        return [
            ix
            for ix in self.engine.with_offers()
            if ix.offer is not None and member_id in ix.offer.to
        ]

    def claim(self, ix: Interaction, member_id: str) -> Offer:
        """Take the offer for ``member_id``; refused if it is gone or someone was faster."""
        offer = ix.offer
        if offer is None or member_id not in offer.to:
            if (
                offer is None
                and ix.owner
                and ix.owner != member_id
                and ix.party(f"@{member_id}") is None
            ):
                # the member who accepted last (an IM's owner is its initiator, not the taker)
                taken = self.engine.core.store.events(subject=ix.id, kind="accepted")
                if taken:
                    raise CommandError(f"{ix.id} was already taken by {taken[-1].data['by']}.")
            raise CommandError(f"Nothing about {ix.id} is offered to you now.")
        ix.offer = None
        self.engine.cancel(ix, "offer")
        return offer

    async def declined(self, ix: Interaction, member_id: str, *, timed_out: bool = False) -> None:
        """A rung member declined (or let it time out): try someone else or give up."""
        offer = ix.offer
        assert offer is not None
        if timed_out and offer.purpose == "route":
            self.missed(ix, member_id, offer)
        left = tuple(m for m in offer.to if m != member_id)
        tried = (*offer.tried, member_id)
        self.engine.event(ix, "timed_out" if timed_out else "declined", {"by": f"@{member_id}"})
        if left:  # others still ringing (IM to a whole group)
            ix.offer = Offer(offer.purpose, left, offer.target, offer.by, offer.expires, tried)
            self.engine.save(ix)
            return
        ix.offer = None
        self.engine.cancel(ix, "offer")
        found = self.engine.core.directory.resolve(offer.target)
        verb = "did not answer" if timed_out else "declined"
        if offer.purpose in OWN and ix.state == "offered":
            await self.engine.fire(ix, "requeue")
        if isinstance(found, Group) and (
            offer.purpose == "route"
            or self.router.choose(found, tried, ix.kind, voice=ix.is_voice())
        ):
            await self.start(ix, offer.purpose, found, offer.by, tried=tried)
            if ix.customer and ix.offer is not None and not ix.offer.to:
                self.engine.tell(f"customer:{ix.customer}", WAIT_PLEASE, ix)
            return
        await self.fail(
            ix, offer.purpose, offer.by, f"@{member_id} {verb}.", found, timed_out=timed_out
        )

    def missed(self, ix: Interaction, member_id: str, offer: Offer) -> None:
        """A routed offer timed out on ``member_id`` (INT-3, ``routing.on_missed_offer``)."""
        core = self.engine.core
        core.metrics.offers_missed.labels(offer.target).inc()
        if core.policy.routing.on_missed_offer == "not_ready":
            core.directory.set_presence(member_id, PresenceState.NOT_READY, MISSED)
            self.engine.tell(
                f"@{member_id}",
                f"You did not answer {ix.id}, so you are not ready ({MISSED}). "
                "Type `ready` when you can take work again.",
            )
        found = core.directory.resolve(offer.target)
        if isinstance(found, Group) and found.supervisors:
            text = f"@{member_id} did not answer {ix.label} from {found.ref}."
            core.inbox.raise_message(list(found.supervisors), text, kind="routing")

    async def expired(self, ix: Interaction) -> None:
        """The offer timer fired: a ringing offer times out, a wait ends."""
        offer = ix.offer
        if offer is None:
            return
        if offer.to:
            for member_id in offer.to:
                self.engine.tell(f"@{member_id}", f"The offer of {ix.id} timed out.", ix)
            ix.offer = Offer(
                offer.purpose,
                offer.to[-1:],
                offer.target,
                offer.by,
                offer.expires,
                (*offer.tried, *offer.to[:-1]),
            )
            await self.declined(ix, offer.to[-1], timed_out=True)
            return
        ix.offer = None
        found = self.engine.core.directory.resolve(offer.target)
        await self.after_wait(ix, offer, found)

    async def after_wait(self, ix: Interaction, offer: Offer, found: Member | Group) -> None:
        """Nobody became available in time: the target's ``when_empty`` decides (GRP-5)."""
        policy = self.router.when_empty(found)
        waited = format_duration(self.engine.core.policy.routing.wait_for(ix.kind))
        self.alert_supervisors(ix, found, policy, waited)
        if policy.startswith("fallback:"):
            fallback = self.engine.core.directory.resolve(
                f"group:{policy.removeprefix('fallback:')}"
            )
            self.engine.event(ix, "fallback", {"from": found.ref, "to": fallback.ref})
            note = await self.start(ix, offer.purpose, fallback, offer.by, tried=offer.tried)
            if note and offer.by:
                self.engine.tell(
                    f"@{offer.by}",
                    f"Nobody in {found.ref} answered within {waited}; "
                    f"trying {fallback.ref}. {note[0].upper()}{note[1:]}",
                    ix,
                )
            elif note and ix.customer:  # customers never see routing decisions
                self.engine.tell(f"customer:{ix.customer}", STILL_LOOKING, ix)
            return
        # A conference only adds someone: the customer stays with the owner, never to voicemail.
        if (
            policy == "voicemail"
            and offer.purpose != "conference"
            and await self.engine.lifecycle.to_voicemail(ix, offer, found)
        ):
            return
        await self.fail(
            ix,
            offer.purpose,
            offer.by,
            f"{found.ref} did not become available within {waited}."
            if isinstance(found, Member)
            else f"Nobody in {found.ref} became available within {waited}.",
            found,
        )

    def alert_supervisors(
        self, ix: Interaction, found: Member | Group, policy: str, waited: str
    ) -> None:
        """A routing fallback is a system message to the target group's supervisors (MSG-2)."""
        if not isinstance(found, Group) or not found.supervisors:
            return
        outcome = {"wait": "it failed", "voicemail": "it went to voicemail", "refuse": "it failed"}
        then = outcome.get(policy, f"it went to group:{policy.removeprefix('fallback:')}")
        text = f"{ix.label} waited {waited} in {found.ref} with nobody available; {then}."
        self.engine.core.inbox.raise_message(list(found.supervisors), text, kind="routing")

    async def fail(
        self,
        ix: Interaction,
        purpose: str,
        by: str | None,
        reason: str,
        found: Member | Group,
        *,
        timed_out: bool = False,
    ) -> None:
        """The offer could not be placed: tell whoever asked, put things back (TRF-4, CON-10)."""
        ix.offer = None
        self.engine.cancel(ix, "offer")
        self.engine.event(ix, "offer_failed", {"purpose": purpose, "reason": reason})
        if by is not None:
            self.engine.core.directory.contacts.record_contact(by, found.ref, failed=True)
        await self.engine.lifecycle.offer_failed(ix, purpose, by, reason, timed_out=timed_out)

    async def member_available(self, member_id: str) -> None:
        """Ring a member who became available, or still has room, with the oldest work (GRP-3).

        One pass over the waiting work: once rung, the member is no longer available.
        """
        if not self.router.available(member_id):
            return
        serves: dict[str, bool] = {}  # target -> whether the member is one of its members
        for ix in self.engine.with_offers():
            offer = ix.offer
            if offer is None or offer.to:
                continue
            if ix.is_voice() and self.engine.calls.busy_on_voice(member_id):
                continue
            if offer.target not in serves:
                found = self.engine.core.directory.resolve(offer.target)
                serves[offer.target] = member_id in self.router.members_of(found)
            if serves[offer.target] and member_id not in offer.tried:
                await self._ring(
                    ix,
                    Offer(
                        offer.purpose,
                        (member_id,),
                        offer.target,
                        offer.by,
                        self.now + self._timeout(offer.purpose),
                        offer.tried,
                    ),
                    waited=True,
                )
                return
