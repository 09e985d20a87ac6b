"""GRP-2, DIR-1, RUL-5: the directory benchmark runs end to end at a small size.

The benchmark (``bench/directory.py``) times search (DIR-1) against a LIKE scan, checks
that group available counts stay exact across presence changes (GRP-2), then times
start-up, `find` through ``Core.handle`` and a reload with its loop lag (RUL-5). Here it
runs small, with limits no machine can miss, then with an impossible one: its exit code
follows the verdict, never this machine's speed.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

CHANGES = 2000
NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
SMALL = ("--members", "2000", "--queries", "200", "--changes", str(CHANGES))
LIMITS = ("--search-ms", "--find-ms", "--startup-s", "--reload-s", "--lag-ms")


@pytest.fixture(scope="module")
def output() -> str:
    generous = [arg for limit in LIMITS for arg in (limit, GENEROUS)]
    return run_bench("directory", *SMALL, *generous, timeout=300)


def test_group_counts_stay_exact_grp_2(output: str) -> None:
    """GRP-2: after every presence change, counts() == recount() == groups.available."""
    assert f"group counts exact after {CHANGES} changes: PASS" in output
    assert "group counts: OK" in output
    assert "MISMATCH" not in output


def test_every_target_is_printed_with_its_figure_and_verdict(output: str) -> None:
    """Each promised figure is a number against its limit; all met, the run passes."""
    for label in (
        "search p99",
        "start-up \\(restart\\)",
        "find through Core.handle p99",
        "reload",
        "reload max loop lag",
    ):
        assert re.search(
            rf"^{label} {NUMBER} (ms|s) \(target < 1e\+09 (ms|s)\): PASS$", output, re.M
        ), label
    assert "unchanged reload writes 0 rows (target < 1 rows): PASS" in output
    assert "verdict: PASS" in output


def test_speed_up_against_the_like_scan_is_reported_dir_1(output: str) -> None:
    """DIR-1: p50 and p99 ratios against the LIKE baseline are printed as numbers."""
    match = re.search(rf"p50 {NUMBER}\u00d7 faster, p99 {NUMBER}\u00d7 faster", output)
    assert match, output
    assert float(match.group(1)) > 0
    assert float(match.group(2)) > 0


def test_the_reload_took_effect_while_the_loop_was_watched_rul_5(output: str) -> None:
    """RUL-5: the edited directory was swapped in; lag and `ready` times are reported."""
    match = re.search(
        rf"reload \(edited file\): {NUMBER} s, max loop lag {NUMBER} ms,"
        rf" slowest of (\d+) `ready` {NUMBER} ms, took effect: True",
        output,
    )
    assert match, output
    assert re.search(rf"start-up: first import {NUMBER} s, restart {NUMBER} s", output)
    assert re.search(rf"command path: p99 {NUMBER}\u00d7 the search alone", output)


def test_every_query_kind_has_percentiles(output: str) -> None:
    """Both tables list p50/p95/p99/max for every query kind and for all queries."""
    rows = re.findall(
        rf"^  (\S+)\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", output, re.MULTILINE
    )
    kinds = [row[0] for row in rows]
    assert {"exact-id", "exact-handle", "contains-4", "no-match", "prefix-1", "find"} <= set(kinds)
    for row in rows:
        p50, p95, p99, worst = (float(v.replace(",", "")) for v in row[2:])
        assert p50 <= p95 <= p99 <= worst


def test_an_impossible_target_fails_the_run() -> None:
    """A missed target exits 1 and names the target; the others still pass."""
    out = run_bench("directory", *SMALL, "--lag-ms", IMPOSSIBLE, expect=1, timeout=300)
    assert re.search(r"^reload max loop lag .*: FAIL$", out, re.M), out
    assert "verdict: FAIL (" in out
    assert "reload max loop lag" in out.split("verdict: FAIL", 1)[1]
