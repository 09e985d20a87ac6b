"""The numbering plan (``rules/numbering.yaml``): a dialled number → a backline target.

``sales`` → ``rp:sales``, ``2000`` → ``group:support``, ``1xxx`` → the member at that
extension, ``*97`` → the caller's own voicemail. Loading reports the file, entry and key
of every problem at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SPECIAL = ("extension", "voicemail")
_TARGET = re.compile(r"^(rp|group|skill|queue|vm):[A-Za-z0-9_.-]+$|^@[A-Za-z0-9_.-]+$")
_PATTERN = re.compile(r"^[A-Za-z0-9*#+_.-]{1,32}$")
SHIPPED = Path(__file__).resolve().parents[2] / "rules" / "numbering.yaml"


class NumberingError(ValueError):
    """A numbering plan that cannot be used; each line names the entry and key."""


@dataclass(frozen=True)
class Route:
    """One entry: a pattern (``x`` any digit) and where it leads."""

    match: str
    target: str

    def matches(self, number: str) -> bool:
        """Whether ``number`` fits the pattern."""
        if len(number) != len(self.match):
            return False
        return all(
            p == n or (p == "x" and n.isdigit()) for p, n in zip(self.match, number, strict=True)
        )


@dataclass(frozen=True)
class Plan:
    """The numbering plan, first match wins."""

    routes: tuple[Route, ...]

    def route(self, number: str) -> str | None:
        """The target (or ``extension``/``voicemail``) for a dialled number."""
        return next((r.target for r in self.routes if r.matches(number)), None)


def load(path: Path | None = None) -> Plan:
    """The plan in ``path`` (the shipped ``rules/numbering.yaml`` by default)."""
    path = path or SHIPPED
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise NumberingError(f"{path}: cannot read the numbering plan: {exc}") from None
    entries = data.get("numbers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise NumberingError(f"{path}: expected a list under 'numbers'")
    problems: list[str] = []
    routes: list[Route] = []
    for i, entry in enumerate(entries):
        where = f"{path}: numbers[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"match", "target"}:
            problems.append(f"{where}: expected exactly the keys 'match' and 'target'")
            continue
        match, target = str(entry["match"]), str(entry["target"])
        if not _PATTERN.match(match):
            problems.append(f"{where}.match: {match!r} is not a dialable pattern")
        elif target not in SPECIAL and not _TARGET.match(target):
            problems.append(
                f"{where}.target: {target!r} is not a target (rp:, group:, @member, vm:)"
                f" nor one of {', '.join(SPECIAL)}"
            )
        else:
            routes.append(Route(match, target))
    if problems:
        raise NumberingError("\n".join(problems))
    return Plan(tuple(routes))
