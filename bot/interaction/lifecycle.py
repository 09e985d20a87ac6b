"""Accepting, holding, ending, leaving and marking done (INT-3, INT-4, CNF-3..8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, Member, Role
from bot.directory.presence import PresenceState
from bot.errors import CommandError
from bot.interaction.model import HANDLERS, SUPERVISING, Interaction, Offer, PartyRole
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from bot.interaction.engine import Engine
    from bot.interaction.talk import Talk


CUSTOMER_WORDS = {"voice": "call", "workitem": "request"}  # a kind as a customer says it
LIVE_KINDS = frozenset({"voice", "chat"})  # the customer is there, in real time
TIMED_ACW = "timed"  # presence reason: after-call work that ends by itself (INT-4)
UNTIMED_ACW = "You are in after-call work; type `ready` when you are done."
NOT_HELD = {
    "chat": ("a chat", "chats"),
    "email": ("an email", "emails"),
    "workitem": ("a work item", "work items"),
    "im": ("an IM", "IMs"),
    "consultation": ("a written consultation", "written consultations"),
    "voicemail": ("a voicemail session", "voicemail sessions"),
}


class Lifecycle:
    """The operations every interaction kind shares."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def talk(self) -> Talk:
        """Message relay."""
        return self.engine.talk

    def members_hear(self, ix: Interaction, text: str, *, but: str | None = None) -> None:
        """Tell every connected member party (not the customer)."""
        for member_id in ix.members():
            if f"@{member_id}" != but:
                self.engine.tell(f"@{member_id}", text, ix)

    def customer_hears(self, ix: Interaction, text: str) -> None:
        """Tell the customer, if one is connected."""
        ref = ix.customer_ref()
        if ref and (p := ix.party(ref)) is not None and p.connected:
            self.engine.tell(ref, text, ix)

    # -- accept / decline --------------------------------------------------------------

    def offered(self, me: str, iid: str | None) -> Interaction:
        """The interaction an ``accept``/``decline`` is about."""
        if iid is not None:
            ix = self.engine.live.get(iid.lower())
            if ix is None:
                raise CommandError(f"There is no live interaction {iid}.")
            return ix
        pending = self.engine.offers.pending_for(me)
        if not pending:
            raise CommandError(self.taken_from(me) or "Nothing is offered to you right now.")
        return pending[-1]

    def taken_from(self, me: str) -> str | None:
        """``i2 was already taken by @chen.`` when the offer that rang ``me`` was taken (IM-5).

        Only the interaction that rang ``me`` last is looked at: one log read, not one per
        live interaction.
        """
        ix = self.engine.live.get(self.engine.offers.last_rung.get(me, ""))
        if ix is None or ix.party(f"@{me}") is not None:
            return None
        by = None
        for event in self.engine.core.store.events(subject=ix.id):
            if event.kind == "offered" and f"@{me}" in event.data["to"]:
                by = ""  # rung: not taken yet
            elif by == "" and event.kind in ("declined", "timed_out"):
                by = None if event.data["by"] == f"@{me}" else by
            elif by == "" and event.kind == "accepted":
                by = str(event.data["by"])
        return f"{ix.id} was already taken by {by}." if by else None

    async def accept(self, me: str, iid: str | None) -> str:
        """Take an offer: the interaction, a consultation, an IM, a transfer or a conference."""
        ix = self.offered(me, iid)
        if ix.offer is not None and me in ix.offer.to:
            old = ix.owner if ix.offer.purpose == "transfer" else None
            self.engine.calls.check_one_leg(ix, me, but=old)
        offer = self.engine.offers.claim(ix, me)
        for other in offer.to:
            if other != me:
                self.engine.tell(f"@{other}", f"{ix.id} was taken by @{me}.", ix)
        self.engine.event(ix, "accepted", {"by": f"@{me}", "purpose": offer.purpose}, actor=me)
        self.engine.core.directory.contacts.record_contact(
            offer.by or me, f"@{me}"
        ) if offer.by else None
        match offer.purpose:
            case "route":
                waited = self.engine.core.clock.now() - ix.created
                self.engine.core.metrics.waited.labels(ix.kind).observe(waited)
                await self.engine.fire(ix, "accept")
                self.engine.set_owner(ix, me)
                if ix.kind in LIVE_KINDS:  # an email's sender is not in a conversation
                    self.customer_hears(ix, f"{self.talk.display_name('@' + me)} joined.")
                await self.engine.supervision.follow(me, ix)
                self.engine.notify("interaction.accepted", ix)
                reply = self.briefing(ix, f"You have {ix.label}.")
            case "call":
                reply = await self.engine.calls.answered(ix, me, offer.by)
            case "consult" | "im":
                await self.engine.fire(ix, "accept")
                role = PartyRole.CONSULTANT if ix.kind == "consultation" else PartyRole.MEMBER
                self.engine.join(ix, f"@{me}", role)
                self.engine.tell(f"@{offer.by}", f"@{me} accepted {ix.label}.", ix)
                reply = (
                    self.engine.consults.briefing(ix) if ix.parent else f"You joined {ix.label}."
                )
            case "transfer":
                reply = await self.engine.transfers.transferred(ix, me, offer)
            case _:
                reply = await self.engine.transfers.joined(ix, me, offer)
        self.engine.set_focus(me, ix.id)
        self.engine.save(ix)
        if self.engine.offers.router.available(me):  # room for more: the next queued item
            await self.engine.offers.member_available(me)
        return reply

    def briefing(self, ix: Interaction, headline: str) -> str:
        """Case data, contact and transcript so far (CON-3, TRF-3)."""
        lines = [headline]
        if ix.customer:
            lines.append(f"Contact: {ix.customer}")
        lines += [f"{k}: {v}" for k, v in ix.case.items()]
        transcript = self.talk.transcript(ix)
        if transcript:
            lines.append("Transcript so far:")
            lines += [f"  {line}" for line in transcript]
        return "\n".join(lines)

    async def decline(self, me: str, iid: str | None) -> str:
        """Refuse an offer; it goes to someone else or back to whoever asked."""
        ix = self.offered(me, iid)
        if ix.offer is None or me not in ix.offer.to:
            raise CommandError(f"Nothing about {ix.id} is offered to you now.")
        await self.engine.offers.declined(ix, me)
        self.engine.save(ix)
        return f"You declined {ix.id}."

    async def offer_failed(
        self, ix: Interaction, purpose: str, by: str | None, reason: str, *, timed_out: bool
    ) -> None:
        """Put things back after an offer nobody took (TRF-4, CON-10, GRP-3)."""
        if purpose == "route":
            what = CUSTOMER_WORDS.get(ix.kind, ix.kind)
            self.customer_hears(
                ix, f"Sorry, nobody can take your {what} now. Please try again later."
            )
            await self.finish(ix, by=None)
            return
        if purpose == "call":
            await self.engine.calls.not_answered(ix, by, reason)
            return
        if purpose in ("consult", "im"):
            await self.engine.fire(ix, "expire" if timed_out else "decline")
            for party in ix.connected():  # closed: nobody stays connected to it
                self.engine.release(ix, party.who, done=True)
            what = "timed out" if timed_out else "did not start"
            self.engine.tell(f"@{by}", f"{reason} {ix.label} {what}.", ix)
            await self.engine.consults.resume_parent(ix)
            self.engine.save(ix)
            return
        if purpose == "transfer":
            await self.engine.fire(ix, "transfer_failed")
            held = ix.state == "held"
            still, keep = (", still on hold", "`resume`") if held else ("", "keep it")
            self.engine.tell(
                f"@{by}",
                f"{reason} {ix.id} is back with you{still}; {keep}, or transfer it elsewhere.",
                ix,
            )
        else:
            self.engine.tell(f"@{by}", f"{reason} Nobody was added to {ix.id}.", ix)
        self.engine.save(ix)

    async def to_voicemail(self, ix: Interaction, offer: Offer, found: Member | Group) -> bool:
        """Leave the customer's message in the target's mailbox (GRP-3 fallback, TRF-6)."""
        if not ix.customer:
            return False
        mailboxes = self.engine.core.mailboxes
        box = found.id if isinstance(found, Member) else mailboxes.group_box(found.id)
        if box is None:
            return False
        await self.leave_in_mailbox(
            ix,
            box,
            offer.by,
            f"Nobody is free to take this right now, so your message was left for {found.name}; "
            "we will get back to you.",
        )
        return True

    async def leave_in_mailbox(self, ix: Interaction, box: str, by: str | None, told: str) -> None:
        """The customer's words so far become a message in ``box``; the interaction ends."""
        assert ix.customer is not None
        text = "\n".join(self.talk.transcript(ix)) or f"({ix.kind} from {ix.customer})"
        self.engine.core.mailboxes.deposit(
            box, ix.customer, text=text, duration=self.engine.core.clock.now() - ix.created
        )
        self.engine.event(ix, "voicemail", {"mailbox": box})
        self.customer_hears(ix, told)
        if by:
            self.engine.tell(f"@{by}", f"{ix.id} went to the {box} voicemail.", ix)
        await self.finish(ix, by=by)

    # -- hold, end, done ----------------------------------------------------------------

    async def hold(self, me: str, ix: Interaction, *, hold: bool) -> str:
        """Put the caller on hold or take them back (INT-4, CON-7, ``conference.hold_roles``)."""
        self.may_hold(me, ix, hold=hold)
        if not hold:
            self.engine.calls.check_one_leg(ix, me)
        await self.engine.fire(
            ix, "hold" if hold else "resume", action="hold" if hold else "resume"
        )
        self.customer_hears(ix, "You are on hold." if hold else "You are off hold.")
        if not ix.customer:  # an internal call or a consultation: the others are told
            done = "put {} on hold" if hold else "took {} off hold"
            self.members_hear(ix, f"@{me} {done.format(ix.label)}.", but=f"@{me}")
        if hold:
            self.engine.triggers_on_hold(ix)
            self.engine.notify("interaction.held", ix)
        self.engine.save(ix)
        return f"{ix.id} is {'on hold' if hold else 'back'}."

    def may_hold(self, me: str, ix: Interaction, *, hold: bool) -> None:
        """Who may hold or resume: calls only; a consultation's initiator; hold_roles."""
        verb = "hold" if hold else "resume"
        if not ix.is_voice():
            one, many = NOT_HELD.get(ix.kind, (f"a {ix.kind}", f"{ix.kind}s"))
            raise CommandError(f"{ix.id} is {one}, and {many} are not held; only calls are.")
        if ix.kind == "consultation" and ix.initiator != me:
            raise CommandError(
                f"Only @{ix.initiator}, who started {ix.id}, can {verb} it; "
                f"they go back and forth with `swap`."
            )
        party = ix.party(f"@{me}")
        allowed = self.engine.core.policy.conference.hold_roles
        if ix.customer and party is not None and party.role.value not in allowed:
            who = f"the owner @{ix.owner}" if "owner" in allowed else "its " + ", ".join(allowed)
            raise CommandError(
                f"Only {who} can {verb} {ix.customer} on {ix.id}; "
                f"ask them, or `leave {ix.id}` to drop out."
            )

    async def end(self, me: str, ix: Interaction) -> str:
        """End an interaction for everyone (the owner) or a consultation/IM (either party)."""
        if ix.kind in ("consultation", "im"):
            return await self.engine.consults.end(me, ix)
        if ix.kind == "voicemail":
            return await self.engine.voicemail.end(me, ix)
        if ix.owner != me and ix.customer:  # an internal call: either side hangs up
            raise CommandError(
                f"Only the owner @{ix.owner} can end {ix.id}; `leave` drops you out."
            )
        what = CUSTOMER_WORDS.get(ix.kind, ix.kind)
        self.customer_hears(ix, f"{self.talk.display_name('@' + me)} ended the {what}.")
        self.members_hear(ix, f"@{me} ended {ix.id}.", but=f"@{me}")
        await self.finish(ix, by=me)
        return f"You ended {ix.id}. Mark it `done {ix.id}` when your notes are complete."

    async def finish(self, ix: Interaction, *, by: str | None) -> None:
        """End ``ix``: everyone is released; it closes once every handler marked it done."""
        if self.engine.offers and ix.offer is not None:
            for member_id in ix.offer.to:  # whoever it rings is told (a transfer, a call)
                self.engine.tell(
                    f"@{member_id}", f"{ix.label} ended, so its offer to you is withdrawn.", ix
                )
            ix.offer = None
            self.engine.cancel(ix, "offer")
        await self.engine.fire(ix, "end")
        if ix.customer:
            self.engine.notify("interaction.ended", ix)
        owner = ix.owner
        for party in ix.connected():
            self.engine.release(ix, party.who)
        if owner and ix.customer:
            self.after_call_work(owner)
        await self.close_if_done(ix)
        self.engine.save(ix)

    def after_call_work(self, member_id: str) -> None:
        """After a customer interaction, after-call work for as long as the rules say (INT-4)."""
        seconds = self.engine.core.policy.interaction.after_call_work
        directory = self.engine.core.directory
        if seconds <= 0 or directory.presence(member_id).state is not PresenceState.READY:
            return
        self.engine.tell(f"@{member_id}", self.enter_after_call_work(member_id, seconds))

    def enter_after_call_work(self, member_id: str, seconds: float | None = None) -> str:
        """After-call work that ends by itself within ``after_call_work.max`` (INT-4).

        Returns what the member is told: how long, and how to leave it.
        """
        limit = self.engine.core.policy.after_call_work.max
        if seconds is None or (limit > 0 and seconds > limit):
            seconds = limit
        directory = self.engine.core.directory
        if seconds <= 0:  # no limit: until they are ready again
            directory.set_presence(member_id, PresenceState.AFTER_CALL_WORK)
            return UNTIMED_ACW
        directory.set_presence(member_id, PresenceState.AFTER_CALL_WORK, f"{TIMED_ACW} {seconds:g}")
        self.engine.schedule_ready(member_id, seconds)
        return (
            f"You are in after-call work for up to {format_duration(seconds)}, then ready again; "
            "type `ready` to leave it sooner."
        )

    async def close_if_done(self, ix: Interaction) -> None:
        """Close ``ix`` when every handler is disconnected and done."""
        if ix.all_done() and "done" in self.engine.specs[ix.kind].triggers(ix.state):
            await self.engine.fire(ix, "done")

    async def done(self, me: str, ix: Interaction) -> str:
        """Mark Done for your own party (INT-4, CON-6, IM-3)."""
        party = ix.party(f"@{me}")
        assert party is not None
        if party.connected:
            raise CommandError(f"You are still connected to {ix.id}; `end` or `leave` it first.")
        if party.done:
            raise CommandError(f"You already marked {ix.id} done.")
        if (
            self.engine.core.policy.interaction.disposition_required
            and ix.customer
            and ix.disposition is None
            and party.role is PartyRole.OWNER
        ):
            raise CommandError(f"Set a disposition first: `dispose CODE {ix.id}`.")
        party.done = True
        self.engine.event(ix, "done", {"who": f"@{me}"}, actor=me)
        await self.close_if_done(ix)
        if self.engine.focus_of(me) == ix.id:
            self.engine.set_focus(me, None)
        self.engine.save(ix)
        return f"{ix.id} is done." + ("" if ix.live else " It is closed.")

    def dispose(self, me: str, ix: Interaction, code: str) -> str:
        """Set the disposition code of a customer interaction."""
        if not ix.customer:
            raise CommandError(f"{ix.id} has no customer; dispositions are for customer work.")
        ix.disposition = code
        self.engine.event(ix, "disposition", {"code": code}, actor=me)
        self.engine.save(ix)
        return f"{ix.id} disposition: {code}."

    # -- leaving and removing --------------------------------------------------------

    async def leave(self, me: str, ix: Interaction) -> str:
        """Release your own leg (CNF-3, CNF-4, CNF-8, SUP-4)."""
        party = ix.party(f"@{me}")
        assert party is not None
        if party.role in SUPERVISING:
            return await self.engine.supervision.leave(me, ix)
        if ix.kind in ("consultation", "im", "voicemail"):
            return await self.end(me, ix)
        if not party.connected:
            raise CommandError(f"You already left {ix.id}.")
        await self.engine.fire(ix, "leave")
        await self.drop(ix, me, by=me)
        return f"You left {ix.id}. Mark it `done {ix.id}` when your notes are complete."

    async def remove(self, me: str, ix: Interaction, who: str) -> str:
        """Release someone else's leg (CNF-6)."""
        allowed = set(self.engine.core.policy.conference.remove_party_roles)
        member = self.engine.core.directory.member(me)
        if not allowed & {r.value for r in member.roles}:
            roles = ", ".join(f"{r}s" for r in sorted(allowed))
            raise CommandError(f"Only {roles} may remove parties (conference.remove_party_roles).")
        target = ix.party(who)
        if target is None or not target.connected or target.member_id is None:
            raise CommandError(f"{who} is not a member connected to {ix.id}.")
        if target.member_id == me:
            raise CommandError("To drop out yourself, use `leave`.")
        await self.engine.fire(ix, "leave", action="remove someone from")
        self.engine.tell(who, f"@{me} removed you from {ix.id}.", ix)
        await self.drop(ix, target.member_id, by=me)
        return f"You removed {who} from {ix.id}."

    async def drop(self, ix: Interaction, member_id: str, *, by: str) -> None:
        """Disconnect a member; ownership passes on, the last member ends it or is refused."""
        handlers = [m for m in ix.members(*HANDLERS) if m != member_id]
        kind_rule = self.engine.core.policy.conference.end_when_last_member_leaves_external
        if not handlers and not kind_rule.get(ix.kind, False):  # type: ignore[call-overload]
            raise CommandError(
                f"@{member_id} is the last member on {ix.id}; `end` it or `transfer` it instead."
            )
        was_owner = ix.owner == member_id
        self.engine.release(ix, f"@{member_id}")
        await self.engine.supervision.agent_left(member_id, ix)
        who = f"@{member_id}" if by == member_id else f"@{member_id} (removed by @{by})"
        self.members_hear(ix, f"{who} left {ix.id}.")
        if self.engine.core.policy.conference.announce_to_customer:
            self.customer_hears(ix, f"{self.talk.display_name('@' + member_id)} left.")
        if not handlers:
            self.customer_hears(ix, f"The {CUSTOMER_WORDS.get(ix.kind, ix.kind)} has ended.")
            await self.finish(ix, by=by)
            return
        if was_owner:
            self.engine.set_owner(ix, handlers[0])
            self.members_hear(ix, f"@{handlers[0]} now owns {ix.id}.")
        if len(handlers) == 1:
            self.engine.tell(f"@{handlers[0]}", f"{ix.id} is a two-party {ix.kind} again.", ix)
        self.engine.save(ix)

    async def mute(self, me: str, ix: Interaction, who: str, *, muted: bool) -> str:
        """Mute or unmute a party: nobody hears them until unmuted (CNF-2)."""
        member = self.engine.core.directory.member(me)
        if ix.owner != me and not member.has(Role.SUPERVISOR):
            raise CommandError(f"Only the owner @{ix.owner} can mute parties of {ix.id}.")
        target = ix.party(who)
        if target is None or not target.connected:
            raise CommandError(f"{who} is not connected to {ix.id}.")
        target.muted = muted
        self.engine.event(ix, "muted" if muted else "unmuted", {"who": who}, actor=me)
        self.members_hear(ix, f"@{me} {'muted' if muted else 'unmuted'} {who} in {ix.id}.", but=who)
        self.engine.tell(who, f"You are {'muted' if muted else 'no longer muted'} in {ix.id}.", ix)
        self.engine.save(ix)
        return f"{who} is {'muted' if muted else 'unmuted'}."
