"""One command table drives parsing, ``help`` and authorization."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.directory.model import Member, Role

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn

Handler = Callable[["Core", "Turn"], Awaitable[str]]


@dataclass(frozen=True)
class CommandSpec:
    """A command: its grammar, who may use it and what runs it."""

    name: str
    usage: str
    summary: str
    handler: Handler
    arity: tuple[int, int | None] = (0, 0)
    roles: frozenset[Role] = frozenset()  # empty: any member
    spec: str = ""
    aliases: tuple[str, ...] = ()
    details: str = ""

    def allowed(self, member: Member) -> bool:
        """Whether ``member`` holds a role this command needs."""
        return not self.roles or bool(self.roles & member.roles)

    def who(self) -> str:
        """The roles in words, for refusals: ``supervisors or admins``."""
        return " or ".join(f"{r.value}s" for r in sorted(self.roles))


@dataclass
class CommandTable:
    """Commands by name and alias."""

    specs: list[CommandSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {n: s for s in self.specs for n in (s.name, *s.aliases)}

    def get(self, name: str) -> CommandSpec | None:
        """The command called ``name`` (or one of its aliases)."""
        return self._by_name.get(name.lower())

    def suggest(self, name: str, member: Member) -> list[str]:
        """Close names among the member's commands, for "did you mean"."""
        names = [s.name for s in self.visible_to(member)]
        close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.6)
        return close or [n for n in names if n.startswith(name.lower()[:3])][:3]

    def visible_to(self, member: Member) -> Iterable[CommandSpec]:
        """Commands the member may use, in table order."""
        return (s for s in self.specs if s.allowed(member))
