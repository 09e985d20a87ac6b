"""MSG-1: the My Messages benchmark runs end to end at a small size; its verdict is its exit code.

The benchmark (``bench/messages.py``) times the first page of ``messages`` through the
core against a bare SELECT on the same database. Here it runs with 2,000 messages, once
with a target no run can miss and once with one no run can meet: the exit code follows
the verdict, whatever this machine's speed.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

NUMBER = r"(\d+(?:\.\d+)?)"
SMALL = ("--messages", "2000", "--runs", "100")


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("messages", *SMALL, "--target-ms", GENEROUS, expect=0)


def test_inbox_is_built_through_the_product_msg_1(output: str) -> None:
    """MSG-1: 2,000 messages raised for alice, the newest tenth still new."""
    assert "inbox: 2000 messages for @alice (200 new)" in output


def test_first_page_is_the_newest_ten_msg_1(output: str) -> None:
    """MSG-1: the command's first page lists the same ids as the SELECT, newest first."""
    assert "first page lists the 10 newest ids: PASS" in output


def test_command_and_baseline_timings_are_reported_msg_1(output: str) -> None:
    """MSG-1: p50/p99/max of the command and of the baseline, and their ratio, as numbers."""
    rows = re.findall(rf"^  (.+?)\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", output, re.MULTILINE)
    assert [r[0] for r in rows] == ["`messages` through Core.handle", "baseline SELECT … LIMIT 10"]
    for row in rows:
        assert int(row[1]) == 100
        p50, p99, worst = map(float, row[2:])
        assert 0 < p50 <= p99 <= worst
    ratio = re.search(rf"ratio \(messages / baseline\): p50 {NUMBER}x, p99 {NUMBER}x", output)
    assert ratio, output
    assert float(ratio.group(1)) > 0
    assert float(ratio.group(2)) > 0


def test_a_met_target_passes_and_exits_0_msg_1(output: str) -> None:
    """MSG-1: the first page's p99 against the target given, PASS, and exit 0 (the fixture)."""
    match = re.search(rf"^first page p99 {NUMBER} ms \(target < 1e\+09 ms\): PASS$", output, re.M)
    assert match, output
    assert float(match.group(1)) > 0
    assert "verdict: PASS" in output


def test_a_missed_target_fails_and_exits_1_msg_1() -> None:
    """MSG-1: a target no run can meet is printed FAIL and the run exits 1."""
    out = run_bench("messages", *SMALL, "--target-ms", IMPOSSIBLE, expect=1)
    assert re.search(rf"^first page p99 {NUMBER} ms \(target < 0 ms\): FAIL$", out, re.M), out
    assert "verdict: FAIL (1 of 1 missed: first page p99)" in out
