"""Consultations and internal IM: private to members, warm transfer and conference (CON, IM)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, Member
from bot.errors import CommandError
from bot.interaction.machines import CUSTOMER_KINDS
from bot.interaction.model import Interaction, Offer, PartyRole

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

MODES = ("voice", "chat", "im")


class Consults:
    """``consult``, ``swap``/``retrieve``, warm ``transfer``/``conference``, ``im``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _voice_endpoint(self, found: Member | Group, me: str) -> None:
        directory = self.engine.core.directory
        if directory.member(me).voice is None:
            raise CommandError("You have no voice endpoint; consult by `chat` or `im` instead.")
        if isinstance(found, Member) and found.voice is None:
            raise CommandError(f"{found.ref} has no voice endpoint; consult by `chat` or `im`.")

    async def consult(
        self, me: str, parent: Interaction, found: Member | Group, mode: str | None
    ) -> str:
        """Start a consultation about ``parent`` that its customer never sees (CON-1, CON-2)."""
        if parent.kind not in CUSTOMER_KINDS:
            raise CommandError(
                f"{parent.id} is an internal {parent.kind}; consult about a customer interaction."
            )
        mode = mode or ("voice" if parent.kind == "voice" else "chat")
        if found.ref == f"@{me}":
            raise CommandError("You cannot consult yourself.")
        if mode == "voice":
            self._voice_endpoint(found, me)
            if any(
                c.mode == "voice" and c.state != "ended"
                for c in self.of_parent(parent)
                if c.initiator == me
            ):
                raise CommandError(
                    f"You already have a voice consultation on {parent.id}; end it or use `swap`."
                )
        was_held = parent.state == "held"
        if mode == "voice" or not parent.is_voice():  # only a voice consult holds a call (CON-7)
            await self.engine.fire(parent, "consult")
        elif "consult" not in self.engine.specs[parent.kind].triggers(parent.state):
            raise CommandError(self.engine.impossible(parent, "consult"))
        if parent.state == "held" and not was_held:
            self.engine.lifecycle.customer_hears(parent, "You are on hold.")
        if mode == "voice":
            self.engine.calls.check_free(me, but=parent)  # on another call, still active?
        cx = self.engine.create(
            "consultation",
            parent=parent.id,
            mode=mode,
            initiator=me,
            target=found.ref,
            case=dict(parent.case),
        )
        self.engine.set_owner(cx, me)
        self.engine.core.directory.contacts.record_contact(me, found.ref)
        tried: tuple[str, ...] = (me,)
        if mode == "voice" and isinstance(found, Group):  # ring only members with a phone
            members = self.engine.offers.router.members_of(found)
            directory = self.engine.core.directory
            tried += tuple(m for m in members if directory.member(m).voice is None)
        note = await self.engine.offers.start(cx, "consult", found, me, tried=tried)
        if cx.live:
            self.engine.set_focus(me, cx.id)
        self.engine.save(parent)
        self.engine.save(cx)
        held = f" {parent.customer or 'The caller'} is on hold." if parent.state == "held" else ""
        return f"Consultation {cx.id} ({mode}) about {parent.id}: {note}{held}" if note else ""

    def of_parent(self, parent: Interaction) -> list[Interaction]:
        """Live consultations about ``parent``, oldest first."""
        return self.engine.consultations_of(parent.id)

    def briefing(self, cx: Interaction) -> str:
        """What the consultant sees: case, contact, transcript so far, read-only (CON-3)."""
        parent = self.engine.live.get(cx.parent or "")
        if parent is None:
            return f"You joined {cx.label}; {cx.parent} has ended."
        return self.engine.lifecycle.briefing(
            parent, f"You joined {cx.label} (read-only view of {parent.label})."
        )

    def consultation_of(self, me: str, ix: Interaction) -> Interaction:
        """The consultation a warm command acts on: ``ix`` itself or my one on ``ix``."""
        if ix.kind == "consultation":
            return ix
        mine = [
            c for c in self.of_parent(ix) if c.initiator == me and c.state in ("active", "held")
        ]
        if len(mine) != 1:
            raise CommandError(f"Name a target, or run this inside a consultation on {ix.id}.")
        return mine[0]

    def _warm_parts(self, me: str, cx: Interaction) -> tuple[Interaction, str]:
        if cx.initiator != me:
            raise CommandError(f"Only @{cx.initiator}, who started {cx.id}, can complete it.")
        consultant = next(iter(cx.members(PartyRole.CONSULTANT)), None)
        if consultant is None or cx.state not in ("active", "held"):
            raise CommandError(f"{cx.id} is not connected to a consultant yet.")
        parent = self.engine.live.get(cx.parent or "")
        if parent is None or parent.state in ("wrapup", "closed"):
            raise CommandError(f"{cx.parent} has ended; there is nothing to hand over.")
        if parent.owner != me:
            raise CommandError(f"You no longer own {parent.id}.")
        return parent, consultant

    async def warm_transfer(self, me: str, cx: Interaction) -> str:
        """From a consultation: the consultant takes over the parent (CON-9, TRF-1)."""
        parent, consultant = self._warm_parts(me, cx)
        await self.engine.fire(parent, "transfer")
        await self._complete(cx)
        reply = await self.engine.transfers.transferred(
            parent, consultant, _warm(me, consultant), tell_old=False
        )
        self.engine.tell(f"@{consultant}", reply, parent)
        self.engine.set_focus(consultant, parent.id)
        self.engine.save(parent)
        return f"Warm transfer done: @{consultant} owns {parent.id}. Mark it `done {parent.id}`."

    async def warm_conference(self, me: str, cx: Interaction) -> str:
        """From a consultation: the consultant joins the parent (CON-9, CNF-1)."""
        parent, consultant = self._warm_parts(me, cx)
        await self._complete(cx)
        await self.resume_parent(cx)  # before the join makes the call active (CON-7)
        reply = await self.engine.transfers.joined(parent, consultant, _warm(me, consultant))
        self.engine.tell(f"@{consultant}", reply, parent)
        self.engine.set_focus(consultant, parent.id)
        self.engine.set_focus(me, parent.id)
        self.engine.save(parent)
        return f"Conference on {parent.id} with @{consultant}."

    async def _complete(self, cx: Interaction) -> None:
        await self.engine.fire(cx, "complete")
        for party in cx.connected():
            self.engine.release(cx, party.who, done=True)
        await self.engine.lifecycle.close_if_done(cx)
        self.engine.save(cx)

    async def end(self, me: str, cx: Interaction) -> str:
        """Either party ends a consultation or IM; the customer interaction goes on (CON-4)."""
        await self.engine.fire(cx, "end")
        if cx.offer is not None:  # still ringing or waiting: withdraw it
            for member_id in cx.offer.to:
                self.engine.tell(f"@{member_id}", f"@{me} withdrew {cx.label}.", cx)
            cx.offer = None
            self.engine.cancel(cx, "offer")
        for party in cx.connected():
            self.engine.release(cx, party.who)
            if party.who != f"@{me}":
                self.engine.tell(party.who, f"@{me} ended {cx.label}. Mark it `done {cx.id}`.", cx)
        await self.resume_parent(cx)
        if cx.parent and cx.parent in self.engine.live and cx.initiator == me:
            self.engine.set_focus(me, cx.parent)
        self.engine.save(cx)
        return f"You ended {cx.id}. Mark it `done {cx.id}` to close it."

    async def resume_parent(self, cx: Interaction) -> None:
        """A voice consultation is over: the parent call comes off hold (CON-7, CON-10)."""
        parent = self.engine.live.get(cx.parent or "")
        if parent is None or cx.mode != "voice" or parent.state != "held":
            return
        if any(
            c.mode == "voice" and c.live and c.state != "ended" and c is not cx
            for c in self.of_parent(parent)
        ):
            return
        await self.engine.fire(parent, "resume")
        self.engine.lifecycle.customer_hears(parent, "You are off hold.")
        if parent.owner:
            self.engine.tell(f"@{parent.owner}", f"{parent.id} is off hold.", parent)
        self.engine.save(parent)

    async def swap(self, me: str) -> str:
        """Alternate between the held parent call and the voice consultation (CON-7)."""
        voice = [
            c
            for c in self.engine.interactions_of(me, connected=False)
            if c.kind == "consultation"
            and c.mode == "voice"
            and c.initiator == me
            and c.state in ("active", "held")
        ]
        if not voice:
            raise CommandError("You have no voice consultation to swap with.")
        cx = voice[-1]
        parent = self.engine.live.get(cx.parent or "")
        if parent is None or parent.state not in ("active", "held"):
            raise CommandError(f"{cx.parent} has ended; `end {cx.id}` when you are done.")
        if cx.state == "active":
            await self.engine.fire(cx, "hold")
            self.engine.calls.check_one_leg(parent, me)
            await self.engine.fire(parent, "resume")
            self.engine.lifecycle.customer_hears(parent, "You are off hold.")
            news = f"@{me} put {cx.label} on hold and went back to {parent.id}."
            current = parent
        else:
            await self.engine.fire(parent, "hold")
            self.engine.lifecycle.customer_hears(parent, "You are on hold.")
            self.engine.calls.check_one_leg(cx, me)
            await self.engine.fire(cx, "resume")
            news = f"@{me} is back on {cx.label}."
            current = cx
        self.engine.lifecycle.members_hear(cx, news, but=f"@{me}")
        self.engine.set_focus(me, current.id)
        self.engine.save(parent)
        self.engine.save(cx)
        other = cx if current is parent else parent
        return f"You are on {current.label}; {other.id} is on hold."

    async def escalate(self, me: str, cx: Interaction) -> str:
        """A chat/IM consultation becomes a voice one when both have a voice endpoint (CON-11)."""
        if cx.mode == "voice":
            raise CommandError(f"{cx.id} is a voice consultation already.")
        others = [m for m in cx.members() if m != me]
        for member_id in [me, *others]:
            if self.engine.core.directory.member(member_id).voice is None:
                raise CommandError(f"@{member_id} has no voice endpoint; it stays {cx.mode}.")
        await self.engine.fire(cx, "escalate", action="escalate to voice")
        self.engine.set_mode(cx, "voice")
        parent = self.engine.live.get(cx.parent or "")
        if parent is not None and parent.state == "active" and parent.kind == "voice":
            await self.engine.fire(parent, "consult")
            self.engine.lifecycle.customer_hears(parent, "You are on hold.")
            self.engine.save(parent)
        self.engine.calls.check_one_leg(cx, me)
        for member_id in others:
            self.engine.tell(f"@{member_id}", f"@{me} turned {cx.id} into a voice call.", cx)
        self.engine.event(cx, "escalated", {"mode": "voice"}, actor=me)
        self.engine.save(cx)
        return f"{cx.id} is now a voice consultation."

    async def im(self, me: str, found: Member | Group, text: str) -> str:
        """Open an internal IM session with a member or group (IM-1, IM-2, IM-5)."""
        if found.ref == f"@{me}":
            raise CommandError("You cannot IM yourself.")
        policy = self.engine.core.policy.im
        im = self.engine.create(
            "im", initiator=me, target=found.ref, case={"message": text} if text else {}
        )
        self.engine.set_owner(im, me)
        self.engine.set_focus(me, im.id)
        self.engine.core.directory.contacts.record_contact(me, found.ref)
        if text:
            self.engine.talk.said(im, f"@{me}", text, private=True, actor=me)
        # Auto-accept skips the invitation, not availability: a logged-off member is not there.
        if (
            policy.auto_accept
            and isinstance(found, Member)
            and self.engine.offers.router.available(found.id)
        ):
            await self.engine.fire(im, "ring")
            await self.engine.fire(im, "accept")
            self.engine.join(im, found.ref, PartyRole.MEMBER)
            if text:
                self.engine.tell(found.ref, f"@{me}: {text}", im, private=True)
            self.engine.save(im)
            return f"IM {im.id} with {found.ref} is open."
        everyone = isinstance(found, Group) and policy.group_delivery == "all"
        note = await self.engine.offers.start(im, "im", found, me, tried=(me,), everyone=everyone)
        self.engine.save(im)
        return f"IM {im.id}: {note}" if note else ""


def _warm(by: str, to: str) -> Offer:
    """The already-accepted offer a warm handover stands for."""
    return Offer("transfer", (to,), f"@{to}", by, 0.0)
