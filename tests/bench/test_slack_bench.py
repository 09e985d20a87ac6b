"""ADP-2: the Slack ack-latency benchmark runs end to end at a small size.

``bench/slack.py`` times `/bl` acks through backline against a bare bolt app in the same run.
Here it runs small; its numbers are only checked to be printed, never compared with a target.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"(\d+(?:\.\d+)?)"


def test_slack_bench_prints_both_apps_and_the_ratio_adp_2() -> None:
    """ADP-2: p50/p99 for backline and the bare bolt app, their ratio and a verdict."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "slack.py"), "--requests", "40", "--warmup", "5"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(rf"^backline\s+{NUMBER}\s+{NUMBER}", out, re.M)
    assert re.search(rf"^bare bolt\s+{NUMBER}\s+{NUMBER}", out, re.M)
    assert re.search(rf"ratio backline/bare: p50 {NUMBER}, p99 {NUMBER}", out)
    assert re.search(r"verdict: (PASS|FAIL)", out)
