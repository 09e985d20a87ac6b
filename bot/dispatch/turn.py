"""One inbound command on its way through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.directory.model import Member
from bot.dispatch.table import CommandSpec
from bot.events import Command
from bot.outbound import Say


@dataclass
class Turn:
    """The state each pipeline step reads and fills in."""

    command: Command
    member: Member | None = None
    spec: CommandSpec | None = None
    args: list[str] = field(default_factory=list)
    rest: str = ""
    reply: str = ""
    outbound: list[Say] = field(default_factory=list)
    ref: str | None = None
    duplicate: bool = False
    outcome: str = "ok"
    touched: frozenset[str] = frozenset()  # interactions changed, frozen at the commit

    @property
    def me(self) -> Member:
        """The identified sender; only valid after the identify step."""
        assert self.member is not None, "identify runs before handlers"
        return self.member

    def tell(
        self, to: str, text: str, *, interaction: str | None = None, private: bool = False
    ) -> None:
        """Queue a message for someone else (delivered only after the commit)."""
        self.outbound.append(Say(to, text, interaction, private))
