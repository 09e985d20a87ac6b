"""ADP-2: the Slack latency benchmark runs end to end at a small size; its verdict is its exit code.

``bench/slack.py`` times acks and deliveries through backline (an empty store and one of
51,000 cards) against a bare bolt app, each in its own process, on the strict Web API stub,
in rounds. Here it runs small; its numbers are parsed and checked to be sane. Targets come
from the command line: limits no run can miss give PASS and exit 0; one limit no run can
meet gives FAIL and exit 1, whatever this machine's speed.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

NUMBER = r"(\d+(?:\.\d+)?)"
SMALL = ("--requests", "30", "--warmup", "5")
TARGETS = ("--p99-target-ms", "--ratio-target", "--store-ratio-target", "--spread-target")
APPS = ("bare bolt", "backline", "full store")
# Each run starts five processes per round; on a busy machine that takes a while.
pytestmark = pytest.mark.timeout(400)


def limits(impossible: str | None = None) -> list[str]:
    """Every target generous, except ``impossible``, which no run can meet."""
    return [f"{t}={IMPOSSIBLE if t == impossible else GENEROUS}" for t in TARGETS]


def verdicts(output: str) -> dict[str, str]:
    """Each target's line → PASS or FAIL."""
    return dict(
        re.findall(r"^(.+?) [\d.,]+(?: ?ms|\u00d7) \(target < .+?\): (PASS|FAIL)$", output, re.M)
    )


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("slack", *SMALL, "--rounds", "2", *limits(), expect=0, timeout=300)


def test_every_app_and_path_is_timed_in_every_round_adp_2(output: str) -> None:
    """ADP-2: p50/p99 of acks and deliveries of all three apps, each path and both, per round."""
    for n in (1, 2):
        assert f"round {n}: ms, 30 requests per app and path" in output
    for kind in ("ack", "delivery"):
        for app in APPS:
            for path in ("slash", "thread", "mix"):
                name = f"{kind} {app} {path}"
                rows = re.findall(rf"^  {name}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", output, re.M)
                assert len(rows) == 2, name
                assert all(0 < float(p50) <= float(p99) for p50, p99, _ in rows), rows


def test_generous_targets_pass_and_exit_0_adp_2(output: str) -> None:
    """ADP-2: every round's targets and the rounds' spread are reported; all met → PASS."""
    found = verdicts(output)
    for n in (1, 2):
        for what in ("backline p99 ack", "p99 ack backline / bare bolt"):
            assert found[f"round {n}: {what}"] == "PASS", what
        for what in ("p99 ack full / empty store", "p99 delivery full / empty store"):
            assert found[f"round {n}: {what}"] == "PASS", what
    assert found["ratio spread across rounds (\u00b1)"] == "PASS"
    found_by_round = (
        r"^p99 ack backline / bare bolt by round: [\d.]+, [\d.]+ = [\d.]+ \u00b1 [\d.]+"
    )
    assert re.search(found_by_round, output, re.M)
    assert "verdict: PASS (9 of 9 targets met)" in output


def test_a_spread_no_rounds_can_meet_fails_and_exits_1_adp_2() -> None:
    """ADP-2: a spread target of 0 is missed by any two rounds: FAIL, exit 1."""
    out = run_bench(
        "slack", *SMALL, "--rounds", "2", *limits("--spread-target"), expect=1, timeout=300
    )
    found = verdicts(out)
    assert found["ratio spread across rounds (\u00b1)"] == "FAIL"
    assert found["round 2: p99 ack backline / bare bolt"] == "PASS"
    assert "verdict: FAIL (1 of 9 missed: ratio spread across rounds (\u00b1))" in out


def test_a_ratio_no_run_can_meet_fails_and_exits_1_adp_2() -> None:
    """ADP-2: a backline / bare bolt target of 0 is missed by any run: FAIL, exit 1."""
    out = run_bench(
        "slack", *SMALL, "--rounds", "1", *limits("--ratio-target"), expect=1, timeout=300
    )
    assert verdicts(out)["round 1: p99 ack backline / bare bolt"] == "FAIL"
    assert "verdict: FAIL (1 of 4 missed: round 1: p99 ack backline / bare bolt)" in out
