"""The README's two commands stay true: CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The shell blocks under "Start here", in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Start here", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_readme_starts_with_run_then_test_command() -> None:
    run, test = readme_commands()[:2]
    assert run.endswith("backline demo")
    assert "pytest" in test and "[test]" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    test = readme_commands()[1]
    assert test in [line.strip() for line in ci if not line.lstrip().startswith("#")]
