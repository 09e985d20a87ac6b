"""ADP-4, ADP-6: the XMPP gateway benchmark runs end to end at a small size.

``bench/xmpp.py`` times member → backline → member against member → member directly through
the same Prosody in the same run and prints the ratio. Here it runs small; the figures are
checked to be printed as numbers, never compared with the target (a 2-core CI box is noisy).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prosody import env_in_ci, prosody_missing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "xmpp.py"
NUMBER = r"(\d+(?:\.\d+)?)"


def test_xmpp_bench_prints_direct_relayed_and_ratio_adp_6() -> None:
    """ADP-6: the bench prints both medians and the ratio of the same run."""
    if prosody_missing() and not env_in_ci():
        pytest.skip("prosody is not installed")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "20"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert result.returncode in (0, 1), result.stderr
    assert re.search(rf"direct .* median {NUMBER} ms", out), out + result.stderr
    assert re.search(
        rf"relayed .* median {NUMBER} ms \(store synchronous=NORMAL, the default", out
    ), out
    assert re.search(rf"ratio: {NUMBER}\u00d7 \(target <= 3\) (OK|MISSED)", out), out
