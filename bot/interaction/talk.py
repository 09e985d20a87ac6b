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
KEPT_LINES = 64
KEPT_LINE_CHARS = 1_000
"""A transcript kept in memory: at most 64 lines of at most 1,000 characters (64 KB at most
per live interaction; a chat's first lines are a few hundred bytes)."""


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
        # muted: nobody heard it, so later joiners do not read it either (CNF-2)
        self.said(ix, who, text, private=private, muted=speaker.muted, actor=who)
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

    def said(
        self,
        ix: Interaction,
        who: str,
        text: str,
        *,
        private: bool,
        muted: bool = False,
        actor: str | None = None,
    ) -> None:
        """Log a line said in ``ix``; the transcript kept with it follows."""
        data: dict[str, object] = {"who": who, "text": text, "private": private}
        if muted:
            data["muted"] = True
        self.engine.event(ix, "said", data, actor=actor)
        if private or muted or ix.transcript is None:
            return
        line = self.line(who, text)
        kept = len(ix.transcript) < KEPT_LINES and len(line) <= KEPT_LINE_CHARS
        ix.transcript = (*ix.transcript, line) if kept else None

    def line(self, who: str, text: str) -> str:
        """One line of a transcript."""
        return f"{self.name(who)}: {text}"

    def transcript(self, ix: Interaction) -> tuple[str, ...]:
        """What was said in ``ix`` that a customer could see: never private content.

        Kept with the interaction while it is short; a long one, or one restored after a
        restart, is read from the log (a rolled-back command's interaction is restored).
        """
        if ix.transcript is not None:
            return ix.transcript
        lines = self.logged_transcript(ix)
        if _short(lines):
            ix.transcript = lines
        return lines

    def logged_transcript(self, ix: Interaction) -> tuple[str, ...]:
        """The transcript as the log has it."""
        return tuple(
            self.line(str(event.data["who"]), str(event.data["text"]))
            for event in self.engine.core.store.events(subject=ix.id, kind="said")
            if not event.data.get("private") and not event.data.get("muted")
        )


def _short(lines: tuple[str, ...]) -> bool:
    """Whether a transcript is kept in memory: a few lines, none of them long."""
    return len(lines) <= KEPT_LINES and all(len(line) <= KEPT_LINE_CHARS for line in lines)
