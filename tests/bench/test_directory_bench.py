"""GRP-2, DIR-1: the directory benchmark runs end to end at a small size.

The benchmark (``bench/directory.py``) times search (DIR-1) against a LIKE scan and checks
that group available counts stay exact across presence changes (GRP-2). Here it runs small;
its timings are only checked to be printed as numbers, never compared with a target.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import run_bench

CHANGES = 2000
NUMBER = r"(\d+(?:\.\d+)?)"


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench(
        "directory", "--members", "3000", "--queries", "200", "--changes", str(CHANGES)
    )


def test_group_counts_stay_exact_grp_2(output: str) -> None:
    """GRP-2: after every presence change, counts() == recount() == groups.available."""
    assert f"group counts exact after {CHANGES} changes: PASS" in output
    assert "group counts: OK" in output
    assert "MISMATCH" not in output


def test_search_p99_is_reported_dir_1(output: str) -> None:
    """DIR-1: the search summary line carries a p99 in ms and a verdict."""
    match = re.search(rf"search p99 {NUMBER} ms \(target < 5 ms\): (PASS|FAIL)", output)
    assert match, output
    assert float(match.group(1)) > 0


def test_speed_up_against_the_like_scan_is_reported_dir_1(output: str) -> None:
    """DIR-1: p50 and p99 ratios against the LIKE baseline are printed as numbers."""
    match = re.search(rf"p50 {NUMBER}\u00d7 faster, p99 {NUMBER}\u00d7 faster", output)
    assert match, output
    assert float(match.group(1)) > 0
    assert float(match.group(2)) > 0


def test_every_query_kind_has_percentiles(output: str) -> None:
    """Both tables list p50/p95/p99/max for every query kind and for all queries."""
    rows = re.findall(
        rf"^  (\S+)\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", output, re.MULTILINE
    )
    kinds = [row[0] for row in rows]
    assert kinds.count("all") == 2, output
    assert {"exact-id", "exact-handle", "contains-4", "no-match", "prefix-1"} <= set(kinds)
    for row in rows:
        p50, p95, p99, worst = map(float, row[2:])
        assert p50 <= p95 <= p99 <= worst
