"""ADP-4, ADP-6: the XMPP gateway benchmark against a ``backline run`` process.

``bench/xmpp.py`` times member → backline → member against member → member directly through
the same Prosody in the same run. Its exit code follows its verdict: run end to end with an
impossible target (a ratio of 0) it must say MISSED and exit 1, whatever the timings were;
the verdict itself is checked on fixed numbers. The real target is never compared here (a
2-core CI box is noisy); ``python bench/xmpp.py`` is how it is measured.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.prosody import env_in_ci, prosody_missing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "xmpp.py"
NUMBER = r"(\d+(?:\.\d+)?)"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_xmpp", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_verdict_follows_the_target_adp_6() -> None:
    """ADP-6: the exit code is 1 exactly when the ratio is over the target."""
    verdict = bench_module().verdict
    assert verdict(2.0, 2.5) == ("OK", 0)
    assert verdict(2.5, 2.5) == ("OK", 0)
    assert verdict(2.51, 2.5) == ("MISSED", 1)
    assert bench_module().TARGET == 2.5


def test_every_round_is_measured_in_alternating_chunks_adp_6() -> None:
    """ADP-6: ``--rounds N`` measures exactly N round trips of each kind, CHUNK at a time."""
    bench = bench_module()
    assert bench.chunks(25) == [10, 10, 5]
    assert bench.chunks(400) == [10] * 40
    assert bench.chunks(2) == [2]
    spread = bench.figure([0.001, 0.002, 0.003, 0.004, 0.005])
    assert spread == "median 3.000 ms (p10 1.400 · p90 4.600 ms)"


def test_xmpp_bench_against_backline_run_exits_1_on_an_impossible_target_adp_6() -> None:
    """ADP-6: end to end, both medians and the ratio printed; target 0 → MISSED, exit 1."""
    if prosody_missing() and not env_in_ci():
        pytest.skip("prosody is not installed")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env = {k: v for k, v in env.items() if not k.startswith("BACKLINE_")}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "20", "--target", "0"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=90,
        env=env,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert "backline run process" in out, out + result.stderr
    assert "rounds: 20 of each kind after a warm-up, in 2 alternating chunks" in out, out
    spread = rf"median {NUMBER} ms \(p10 {NUMBER} · p90 {NUMBER} ms\)"
    assert re.search(rf"direct .* {spread}", out), out + result.stderr
    assert re.search(rf"relayed .* {spread}", out), out
    assert re.search(rf"ratio by chunk: p10 {NUMBER}\u00d7 · p90 {NUMBER}\u00d7", out), out
    assert re.search(rf"ratio: {NUMBER}\u00d7 \(target <= 0\) MISSED", out), out
    assert result.returncode == 1, out + result.stderr
