"""ADP-5: the hostile-datagram benchmark runs end to end, small; its verdict is its exit code.

``bench/sip_fuzz.py`` times OPTIONS round trips before and after a flood of hostile
datagrams. Here 300 datagrams and 50 probes run once with targets no run can miss and once
with one no run can meet: the exit code follows the verdict whatever this machine's speed.
``python bench/sip_fuzz.py`` measures the real targets (p99 under 10 ms after 10,000).
"""

from __future__ import annotations

import re

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

SMALL = ("--datagrams", "300", "--probes", "50")


def test_both_p99s_are_measured_and_the_flood_was_parsed_adp_5() -> None:
    """ADP-5: generous targets pass; the figures before and after are printed."""
    output = run_bench("sip_fuzz", *SMALL, "--p99-ms", GENEROUS, "--ratio", GENEROUS, expect=0)
    for when in ("before", "after"):
        assert re.search(rf"OPTIONS {when} the flood: +p99 \d+\.\d+ ms over 50 probes", output)
    parsed = re.search(r"datagrams: 300 sent, (\d+) parsed \((\d+) malformed\)", output)
    assert parsed, output
    assert int(parsed.group(1)) >= 285 and int(parsed.group(2)) > 0
    assert "verdict: PASS (3 of 3 targets met)" in output


def test_an_impossible_target_exits_1_adp_5() -> None:
    """ADP-5: a p99 target of 0 ms can never be met: FAIL, exit code 1."""
    output = run_bench("sip_fuzz", *SMALL, "--p99-ms", IMPOSSIBLE, "--ratio", GENEROUS, expect=1)
    assert "OPTIONS p99 after the flood" in output and "verdict: FAIL" in output
