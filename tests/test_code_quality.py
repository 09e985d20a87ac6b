"""Lint and types are part of the test run: ruff and ``mypy --strict`` on bot and adapters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean_on_bot_and_adapters() -> None:
    result = _run("mypy", "--strict", "bot", "adapters")
    assert result.returncode == 0, result.stdout + result.stderr
