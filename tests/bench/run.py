"""Running a benchmark script as a user would, for the tests that read its report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Limits no run can miss / no run can meet, whatever this machine's speed: a test passes
# them to prove the exit code follows the verdict without depending on timing.
GENEROUS = "1e9"
IMPOSSIBLE = "0"


def run_bench(name: str, *args: str, expect: int = 0, timeout: float = 100) -> str:
    """Run ``bench/NAME.py ARGS``; assert it exits with ``expect`` and return what it printed."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result.stdout
