"""Who hears what: messages inside interactions, whispers, and transcripts (CNF-2, SUP-1..3).

Monitors hear everything and are heard by nobody; a coach is heard by the agent only;
a barger by everyone. Consultation and IM content is private: it can never reach a
customer, and transcripts leave it out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import CommandError
from bot.interaction.model import SUPERVISING, Interaction, Party, PartyRole

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

INTERNAL_KINDS = frozenset({"consultation", "im"})


class Talk:
    """Relays what a party says to the parties who may hear it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def name(self, who: str) -> str:
        """How a party is named to others: ``@alice`` for members, the name for customers."""
        return who if who.startswith("@") else who.split(":", 1)[1]

    def display_name(self, who: str) -> str:
        """How a member is named to a customer: their full name."""
        member = self.engine.core.directory.data.members.get(who.removeprefix("@"))
        return member.name if member else self.name(who)

    def hearers(self, ix: Interaction, speaker: Party) -> list[Party]:
        """Connected parties who hear ``speaker``."""
        others = [p for p in ix.connected() if p.who != speaker.who]
        if speaker.muted:
            return []
        if speaker.role is PartyRole.COACH:
            return [p for p in others if p.member_id == speaker.about or p.role in SUPERVISING]
        return others

    async def say(self, ix: Interaction, who: str, text: str) -> int:
        """``who`` says ``text`` in ``ix``; returns how many parties heard it."""
        speaker = ix.party(who)
        if speaker is None or not speaker.connected:
            raise CommandError(f"You are not connected to {ix.id}.")
        if speaker.role is PartyRole.MONITOR:
            raise CommandError(
                f"You are monitoring {ix.id} silently. `coach @{speaker.about}` to whisper to the "
                f"agent or `barge @{speaker.about}` to join."
            )
        if "talk" not in self.engine.specs[ix.kind].triggers(ix.state):
            raise CommandError(self.engine.impossible(ix, "talk in"))
        private = ix.kind in INTERNAL_KINDS or speaker.role is PartyRole.COACH
        said = {"who": who, "text": text, "private": private}
        if speaker.muted:  # nobody heard it: later joiners do not read it either (CNF-2)
            said["muted"] = True
        self.engine.event(ix, "said", said, actor=who)
        heard = self.hearers(ix, speaker)
        for party in heard:
            self.engine.tell(party.who, self.render(ix, speaker, party, text), ix, private=private)
        return len(heard)

    def render(self, ix: Interaction, speaker: Party, hearer: Party, text: str) -> str:
        """The line a hearer sees."""
        if hearer.member_id is None:
            return f"{self.display_name(speaker.who)}: {text}"
        if speaker.role is PartyRole.COACH:
            return f"(whisper) {speaker.who}: {text}"
        return f"{self.name(speaker.who)}: {text}"

    def transcript(self, ix: Interaction) -> list[str]:
        """What was said in ``ix`` that a customer could see: never private content."""
        lines = []
        for event in self.engine.core.store.events(subject=ix.id, kind="said"):
            if not event.data.get("private") and not event.data.get("muted"):
                lines.append(f"{self.name(str(event.data['who']))}: {event.data['text']}")
        return lines
