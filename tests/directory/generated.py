"""A rules folder with the demo rules plus many generated members, and edits of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.console import RULES


def member(index: int, prefix: str = "Member") -> dict[str, object]:
    return {
        "id": f"m{index:06d}",
        "name": f"{prefix} {index:06d}",
        "handles": {"slack": f"U{index:09d}"},
    }


def write_directory(rules: Path, members: list[dict[str, object]]) -> None:
    """The demo directory with ``members`` appended, one flow mapping a line."""
    head, tail = (RULES / "directory.yaml").read_text(encoding="utf-8").split("\ngroups:\n", 1)
    lines = "\n".join("  - " + json.dumps(m) for m in members)
    (rules / "directory.yaml").write_text(f"{head}\n{lines}\ngroups:\n{tail}", encoding="utf-8")


def generated_rules(tmp_path: Path, count: int) -> tuple[Path, list[dict[str, object]]]:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    members = [member(i) for i in range(count)]
    write_directory(rules, members)
    return rules, members
