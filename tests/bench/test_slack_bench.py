"""ADP-2: the Slack latency benchmark runs end to end at a small size; its verdict is its exit code.

``bench/slack.py`` times acks and deliveries through backline (an empty store and one of
51,000 cards) against a bare bolt app in its own process. Here it runs small; its numbers
are parsed and checked to be sane. Targets come from the command line: limits no run can
miss give PASS and exit 0; one limit no run can meet gives FAIL and exit 1, whatever this
machine's speed.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

NUMBER = r"(\d+(?:\.\d+)?)"
SMALL = ("--requests", "30", "--warmup", "5")
TARGETS = ("--p99-target-ms", "--ratio-target", "--store-ratio-target")


def limits(impossible: str | None = None) -> list[str]:
    """Every target generous, except ``impossible``, which no run can meet."""
    return [f"{t}={IMPOSSIBLE if t == impossible else GENEROUS}" for t in TARGETS]


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("slack", *SMALL, *limits(), expect=0, timeout=180)


def test_every_app_and_path_is_timed_adp_2(output: str) -> None:
    """ADP-2: p50/p99 acks of the bare bolt app and both backlines; deliveries of both."""
    for name in ("ack bare bolt slash", "ack backline slash", "ack full store slash"):
        assert re.search(rf"^{name}\s+{NUMBER}\s+{NUMBER}", output, re.M), name
    for name in ("ack backline thread", "delivery backline slash", "delivery full store thread"):
        assert re.search(rf"^{name}\s+{NUMBER}\s+{NUMBER}", output, re.M), name


def test_generous_targets_pass_and_exit_0_adp_2(output: str) -> None:
    """ADP-2: each target is reported against its limit; all met → PASS (exit 0 above)."""
    for what in ("p99 ack backline / bare bolt", "p99 ack full / empty store"):
        assert re.search(rf"{re.escape(what)}: {NUMBER} \(target <= 1e\+09\) ok", output), what
    assert "verdict: PASS" in output


def test_a_target_no_run_can_meet_fails_and_exits_1_adp_2() -> None:
    """ADP-2: a p99 target of 0 ms is missed by any run: FAIL, exit 1."""
    out = run_bench("slack", *SMALL, *limits("--p99-target-ms"), expect=1, timeout=180)
    assert re.search(r"backline p99 ack \(ms\): [\d.]+ \(target < 0\) MISSED", out)
    assert "verdict: FAIL" in out
