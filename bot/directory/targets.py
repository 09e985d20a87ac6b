"""Targets as members write them: ``@bob``, ``group:support``, ``skill:spanish``, ``vm:support``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import CommandError

KIND_NAMES = {
    "member": "member",
    "group": "group",
    "skill": "skill",
    "queue": "queue",
    "rp": "routing point",
    "vm": "mailbox",
}
_TARGET = re.compile(
    r"^(?:@(?P<member>[\w.-]+)|(?P<kind>group|skill|queue|rp|vm):(?P<id>[\w.-]+))$"
)
TARGET_FORMS = "@member, group:NAME, skill:NAME, queue:NAME, rp:NAME or vm:MAILBOX"


@dataclass(frozen=True)
class Target:
    """Whom an operation is aimed at."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"@{self.id}" if self.kind == "member" else f"{self.kind}:{self.id}"

    @property
    def kind_name(self) -> str:
        """The kind in words: ``routing point`` for ``rp``."""
        return KIND_NAMES[self.kind]


def parse_target(text: str) -> Target:
    """Parse a target; anything else is a ``CommandError`` that shows the accepted forms."""
    match = _TARGET.match(text.strip())
    if match is None:
        hint = f" Did you mean @{text}?" if re.fullmatch(r"[\w.-]+", text) else ""
        raise CommandError(f"'{text}' is not a target. Targets look like {TARGET_FORMS}.{hint}")
    if match["member"]:
        return Target("member", match["member"].lower())
    return Target(match["kind"], match["id"].lower())
