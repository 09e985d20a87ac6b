"""ADP-5: the SIP media benchmark runs end to end at a small size; its verdict is its exit code.

``bench/sip_media.py`` drives real RTP over loopback UDP into a bare relay and into the
``MediaServer`` mixer in the same run. Here it runs with 4 conferences for one second, once
with targets no run can miss and once with ones no run can meet: the exit code follows the
verdict, whatever this machine's speed. ``python bench/sip_media.py`` measures the real
target (100 three-party conferences within one core, p99 frame jitter under 5 ms).
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

NUMBER = r"(\d+(?:\.\d+)?)"
SMALL = ("--conferences", "4", "--seconds", "1")


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench(
        "sip_media", *SMALL, "--cpu-percent", GENEROUS, "--jitter-ms", GENEROUS, expect=0
    )


def test_both_runs_are_measured_on_real_udp_adp_5(output: str) -> None:
    assert "4 conferences x 3 parties = 12 legs, 600 packets/s each way" in output
    for name in ("bare UDP relay (baseline)", "MediaServer mixer"):
        row = re.search(
            rf"{re.escape(name)}\s+cpu {NUMBER} s over {NUMBER} s = \s*{NUMBER}% of a core,"
            rf" ([\d,]+) packets timed, p99 frame jitter {NUMBER} ms",
            output,
        )
        assert row, output
        cpu, wall, _, packets, _ = row.groups()
        assert float(cpu) > 0 and float(wall) >= 0.9
        assert int(packets.replace(",", "")) >= 40  # two timed legs, 50 frames a second
    clock = re.search(
        rf"mixer clock: (\d+) frames mixed, (\d+) clock restarts, thread at (.+?),"
        rf" tick start late p99 {NUMBER} ms \(max {NUMBER} ms\)",
        output,
    )
    assert clock, output
    assert int(clock[1]) >= 40
    assert clock[3] in {"SCHED_FIFO 10", "nice -10", "normal"}


def test_the_ratio_and_a_met_target_exit_0_adp_5(output: str) -> None:
    assert re.search(rf"ratio \(mixer CPU / relay CPU\): {NUMBER}\u00d7", output), output
    assert re.search(rf"mixer CPU of one core {NUMBER} % \(target < 1e\+09 %\): PASS", output)
    assert re.search(rf"mixer p99 frame jitter {NUMBER} ms \(target < 1e\+09 ms\): PASS", output)
    assert "verdict: PASS" in output


def test_an_impossible_target_fails_and_exits_1_adp_5() -> None:
    out = run_bench("sip_media", *SMALL, "--jitter-ms", IMPOSSIBLE, expect=1)
    assert re.search(rf"mixer p99 frame jitter {NUMBER} ms \(target < 0 ms\): FAIL", out), out
    assert "verdict: FAIL (1 of 2 missed: mixer p99 frame jitter)" in out
