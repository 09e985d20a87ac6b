"""ADP-3: the Matrix gateway benchmark against a ``backline run`` process and a real Synapse.

``bench/matrix.py`` times a round trip through backline against a direct one through the
same Synapse in the same run. Run end to end with an impossible target (a ratio of 0) it
must say MISSED and exit 1, whatever the timings were; the verdict itself is checked on
fixed numbers. ``python bench/matrix.py`` is how the real target is measured.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench.run import IMPOSSIBLE, run_bench
from tests.support.prosody import env_in_ci
from tests.support.synapse import synapse_python

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"(\d+(?:\.\d+)?)"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_matrix", ROOT / "bench" / "matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verdict_follows_the_target_adp_3() -> None:
    """ADP-3: the exit code is 1 exactly when the ratio is over the target (1.5)."""
    module = bench_module()
    assert module.verdict(1.2, 1.5) == ("OK", 0)
    assert module.verdict(1.5, 1.5) == ("OK", 0)
    assert module.verdict(1.51, 1.5) == ("MISSED", 1)
    assert module.TARGET == 1.5


def test_matrix_bench_exits_1_on_an_impossible_target_adp_3() -> None:
    """ADP-3: end to end, both medians and the ratio printed; target 0 → MISSED, exit 1."""
    if synapse_python() is None and not env_in_ci():
        pytest.skip("Synapse is not installed (.venv-synapse)")
    out = run_bench("matrix", "--rounds", "10", "--target", IMPOSSIBLE, expect=1, timeout=110)
    assert re.search(rf"direct .* median {NUMBER} ms", out), out
    assert re.search(rf"relayed .* median {NUMBER} ms", out), out
    assert re.search(rf"ratio: {NUMBER}\u00d7 \(target <= 0\) MISSED", out), out
