"""MSG-1: the My Messages benchmark runs end to end at a small size.

The benchmark (``bench/messages.py``) times the first page of ``messages`` through the
core against a bare SELECT on the same database. Here it runs with 2,000 messages; the
timings are only checked to be printed as numbers, never compared with the target.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import run_bench

NUMBER = r"(\d+(?:\.\d+)?)"


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("messages", "--messages", "2000", "--runs", "100")


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


def test_verdict_line_msg_1(output: str) -> None:
    """MSG-1: the summary gives the first page's p99 against the 20 ms target."""
    match = re.search(rf"first page p99 {NUMBER} ms \(target < 20 ms\): (PASS|FAIL)$", output, re.M)
    assert match, output
    assert float(match.group(1)) > 0
