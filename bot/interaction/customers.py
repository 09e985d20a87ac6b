"""Customers: work arriving from outside (INT-2), what they say, and hanging up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import CommandError
from bot.interaction.machines import CUSTOMER_KINDS
from bot.interaction.model import Interaction, PartyRole
from bot.interaction.offers import WAIT_PLEASE

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

SUBJECT_KEYS = {"chat": "first message", "voice": "", "email": "subject", "workitem": "title"}


class Customers:
    """The customer side of interactions, for the console ``sim`` and the HTTP API."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def interaction_of(self, name: str) -> Interaction | None:
        """The customer's live, connected interaction."""
        for ix in self.engine.of_party(f"customer:{name}"):
            party = ix.party(f"customer:{name}")
            if party is not None and party.connected:
                return ix
        return None

    async def arrive(
        self, kind: str, name: str, target: str, text: str = "", case: dict[str, str] | None = None
    ) -> tuple[Interaction, str]:
        """A customer starts a voice call, chat, email or work item to ``target``."""
        if kind not in CUSTOMER_KINDS:
            raise CommandError(
                f"'{kind}' is not a customer kind; use one of {', '.join(CUSTOMER_KINDS)}."
            )
        if not name or any(c.isspace() for c in name):
            raise CommandError("A customer name is one word, e.g. Ann.")
        existing = self.interaction_of(name)
        if existing is not None:
            raise CommandError(f"Customer {name} is already in {existing.id}.")
        if target.startswith("vm:"):
            return await self.leave_message(kind, name, target.removeprefix("vm:")), ""
        found = self.engine.core.directory.resolve(target)
        data = dict(case or {})
        if text and SUBJECT_KEYS[kind]:
            data.setdefault(SUBJECT_KEYS[kind], text)
        ix = self.engine.create(kind, customer=name, target=found.ref, case=data)
        self.engine.join(ix, f"customer:{name}", PartyRole.CUSTOMER)
        if text and kind == "chat":
            self.engine.talk.said(ix, f"customer:{name}", text, private=False)
        self.engine.notify("interaction.created", ix)
        await self.engine.core.settle()  # creation triggers (a greeting) act before routing
        note = await self.engine.offers.start(ix, "route", found, None)
        if ix.live and ix.offer is not None and not ix.offer.to:
            self.engine.tell(f"customer:{name}", WAIT_PLEASE, ix)
        self.engine.save(ix)
        return ix, note

    async def leave_message(self, kind: str, name: str, box_id: str) -> Interaction:
        """A call to ``vm:BOX``: the caller records a message (MSG-5)."""
        box = self.engine.core.mailboxes.get(box_id)
        if kind != "voice":
            raise CommandError("Only a call can leave a voicemail: `sim call NAME vm:BOX`.")
        ix = self.engine.create(kind, customer=name, target=f"vm:{box.id}")
        self.engine.join(ix, f"customer:{name}", PartyRole.CUSTOMER)
        await self.engine.voicemail.record(ix, box.id)
        self.engine.save(ix)
        return ix

    async def say(self, name: str, text: str) -> Interaction:
        """The customer writes (or speaks) in their interaction."""
        ix = self._mine(name)
        if ix.state in ("queued", "offered"):
            self.engine.talk.said(ix, f"customer:{name}", text, private=False)
            self.engine.save(ix)
            return ix
        await self.engine.talk.say(ix, f"customer:{name}", text)
        self.engine.save(ix)
        return ix

    async def hang_up(self, name: str) -> Interaction:
        """The customer leaves: the interaction ends; consultations about it go on (CON-5)."""
        ix = self._mine(name)
        if ix.state == "recording":
            self.engine.voicemail.deposit_recording(ix)
        self.engine.lifecycle.members_hear(ix, f"{name} left {ix.id}.")
        for cx in self.engine.consults.of_parent(ix):  # consultants hear it too (CON-5)
            for member_id in cx.members():
                if member_id not in ix.members():
                    self.engine.tell(
                        f"@{member_id}",
                        f"{name} hung up; {ix.id} has ended. {cx.id} goes on until it is ended.",
                        cx,
                    )
        await self.engine.lifecycle.finish(ix, by=None)
        return ix

    def _mine(self, name: str) -> Interaction:
        ix = self.interaction_of(name)
        if ix is None:
            raise CommandError(f"Customer {name} has no live interaction.")
        return ix
