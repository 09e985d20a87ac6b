"""Listening to a mailbox as an internal interaction (MSG-5), and callers leaving messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import CommandError
from bot.interaction.model import Interaction
from bot.mailboxes import Voicemail

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

MENU = "`next`, `play`, `keep`, `delete` or `end`"


class VoicemailSessions:
    """``voicemail [MAILBOX]``: a session with next / play / keep / delete."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def start(self, me: str, box_id: str) -> str:
        """Open a session on a mailbox the member may read; a PIN first where required."""
        box = self.engine.core.mailboxes.get(box_id)
        if not self.engine.core.mailboxes.may_read(me, box):
            raise CommandError(f"You may not read the {box.id} mailbox.")
        for open_session in self.engine.interactions_of(me):
            if open_session.kind == "voicemail":
                raise CommandError(
                    f"You are already in {open_session.id} (voicemail); `end` it first."
                )
        ix = self.engine.create(
            "voicemail", initiator=me, target=f"vm:{box.id}", case={"mailbox": box.id}
        )
        self.engine.set_owner(ix, me)
        self.engine.set_focus(me, ix.id)
        if self.engine.core.policy.voicemail.require_pin:
            self.engine.save(ix)
            if not self.engine.core.mailboxes.has_pin(box.id):
                return (
                    f"{ix.id}: the {box.id} mailbox has no PIN yet; set one with "
                    f"`mailbox pin NNNN {box.id}`, then `end` and start again."
                )
            return f"{ix.id}: enter the PIN of the {box.id} mailbox: `pin NNNN`."
        await self.engine.fire(ix, "unlock")
        self.engine.save(ix)
        return self.summary(ix)

    def summary(self, ix: Interaction) -> str:
        """Counts and the menu."""
        box = ix.case["mailbox"]
        new, old = self.engine.core.mailboxes.counts(box)
        return f"{ix.id}: mailbox {box} has {new} new and {old} old messages. {MENU}."

    def session(self, me: str, ix: Interaction) -> Interaction:
        """The member's voicemail session (their current interaction)."""
        if ix.kind != "voicemail":
            raise CommandError("Start a voicemail session first: `voicemail [MAILBOX]`.")
        return ix

    async def unlock(self, me: str, ix: Interaction, pin: str) -> str:
        """Check the PIN."""
        box = ix.case["mailbox"]
        if ix.state != "locked":
            raise CommandError(f"{ix.id} is already open.")
        if not self.engine.core.mailboxes.has_pin(box):
            raise CommandError(
                f"The {box} mailbox has no PIN yet: `mailbox pin NNNN {box}` sets one."
            )
        if not self.engine.core.mailboxes.pin_ok(box, pin):
            self.engine.event(ix, "pin_refused", {"mailbox": box}, actor=me)
            self.engine.save(ix)
            raise CommandError("Wrong PIN; try again.")
        await self.engine.fire(ix, "unlock")
        self.engine.save(ix)
        return self.summary(ix)

    def _current(self, ix: Interaction) -> Voicemail:
        current = ix.case.get("current")
        for message in self.engine.core.mailboxes.messages(ix.case["mailbox"]):
            if str(message.id) == current:
                return message
        raise CommandError("No message is selected; `next` moves to the next one.")

    async def browse(self, me: str, ix: Interaction, action: str) -> str:
        """``next``, ``play``, ``keep`` or ``delete`` in an open session."""
        await self.engine.fire(ix, "browse", action=action)
        mailboxes = self.engine.core.mailboxes
        box = ix.case["mailbox"]
        if action == "next":
            messages = mailboxes.messages(box)
            seen = ix.case.get("seen", "").split()
            ahead = [m for m in messages if str(m.id) not in seen]
            if not ahead:
                return f"No more messages in {box}. {MENU}."
            ix.case["current"] = str(ahead[0].id)
            ix.case["seen"] = " ".join([*seen, str(ahead[0].id)])
            self.engine.save(ix)
            return f"Message #{ahead[0].id} from {ahead[0].caller} ({ahead[0].status}). `play` it."
        message = self._current(ix)
        if action == "play":
            mailboxes.mark_old(message.id)  # heard: old for every reader (MSG-6)
            self.engine.event(ix, "played", {"message": message.id}, actor=me)
            self.engine.save(ix)
            return message.describe()
        if action == "keep":
            mailboxes.mark_old(message.id)
            self.engine.save(ix)
            return f"Kept message #{message.id}."
        mailboxes.delete(message.id)
        ix.case.pop("current", None)
        self.engine.event(ix, "deleted", {"message": message.id}, actor=me)
        self.engine.save(ix)
        return f"Deleted message #{message.id}."

    async def end(self, me: str, ix: Interaction) -> str:
        """Close the session."""
        await self.engine.fire(ix, "end")
        self.engine.release(ix, f"@{me}", done=True)
        self.engine.save(ix)
        new, old = self.engine.core.mailboxes.counts(ix.case["mailbox"])
        return f"Closed {ix.id}; {ix.case['mailbox']} now has {new} new and {old} old messages."

    async def record(self, ix: Interaction, box_id: str) -> None:
        """A caller reached ``vm:BOX``: what they say until they hang up is the message."""
        await self.engine.fire(ix, "record")
        name = self.engine.core.mailboxes.owner_name(self.engine.core.mailboxes.get(box_id))
        self.engine.lifecycle.customer_hears(
            ix, f"You reached the voicemail of {name}. Leave your message, then hang up."
        )

    def deposit_recording(self, ix: Interaction) -> None:
        """The caller hung up: their words become the message (MSG-5, console)."""
        box = (ix.target or "").removeprefix("vm:")
        text = "\n".join(line.split(": ", 1)[-1] for line in self.engine.talk.transcript(ix))
        duration = self.engine.core.clock.now() - ix.created
        self.engine.core.mailboxes.deposit(
            box, ix.customer or "unknown", text=text or None, duration=duration
        )
        self.engine.event(ix, "voicemail", {"mailbox": box})
