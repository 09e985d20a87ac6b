"""Loading a whole rules folder at once, reporting every error of every file (RUL-4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.directory.document import digest
from bot.directory.loader import read_bytes, read_directory
from bot.directory.model import DirectoryData, GroupKind
from bot.interaction.machines import MachineSpec, load_machines
from bot.rules.errors import RuleError, RulesInvalid
from bot.rules.policy import Policy, load_policy
from bot.rules.triggers import Trigger, load_triggers


@dataclass(frozen=True)
class Rules:
    """Everything a rules folder declares, validated."""

    folder: Path
    directory: DirectoryData
    policy: Policy
    machines: dict[str, MachineSpec]
    triggers: list[Trigger]
    directory_digest: str = ""  # content hash of directory.yaml


Known = Callable[[str], DirectoryData | None]


def load_rules(folder: Path, *, known: Known | None = None) -> Rules:
    """Load ``folder``; raises ``RulesInvalid`` with every problem found in every file.

    ``known`` maps the directory file's content hash to a directory already validated from
    that very content (the store's, or the one in memory), which is then used unparsed.
    """
    errors: list[RuleError] = []
    directory, directory_digest = DirectoryData({}, {}, {}), ""
    try:
        directory, directory_digest = _directory(folder, known)
        group_ids = [g.id for g in directory.groups.values() if g.kind is GroupKind.GROUP]
    except RulesInvalid as exc:
        errors += exc.errors
        group_ids = _declared_groups(folder)  # so policy still names unknown groups
    policy = Policy.defaults()
    policy_file = folder / "policy.yaml"
    if policy_file.exists():
        try:
            policy = load_policy(
                policy_file, group_ids=group_ids, display=_display(folder, "policy.yaml")
            )
        except RulesInvalid as exc:
            errors += exc.errors
    machines: dict[str, MachineSpec] = {}
    try:
        machines = load_machines(folder / "machines")
    except RulesInvalid as exc:
        errors += exc.errors
    triggers: list[Trigger] = []
    try:
        triggers = load_triggers(folder / "triggers")
    except RulesInvalid as exc:
        errors += exc.errors
    if errors:
        raise RulesInvalid(errors)
    return Rules(folder, directory, policy, machines, triggers, directory_digest)


def _directory(folder: Path, known: Known | None) -> tuple[DirectoryData, str]:
    display = _display(folder, "directory.yaml")
    content = read_bytes(folder / "directory.yaml", display)
    hashed = digest(content)
    same = known(hashed) if known is not None else None
    return (same if same is not None else read_directory(content, display)), hashed


def _declared_groups(folder: Path) -> list[str]:
    """The group ids an invalid directory file still declares, read leniently."""
    try:
        data = yaml.safe_load((folder / "directory.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return []
    return [str(g["id"]) for g in groups if isinstance(g, dict) and isinstance(g.get("id"), str)]


def check_rules(folder: Path) -> list[RuleError]:
    """Every problem in ``folder``; an empty list means the rules are valid."""
    if not folder.is_dir():
        return [RuleError(str(folder), None, "", "not a folder of rules")]
    try:
        load_rules(folder)
    except RulesInvalid as exc:
        return exc.errors
    return []


def _display(folder: Path, name: str) -> str:
    return str(folder / name)
