"""OPS-2: the start-up benchmark runs end to end at a small size; its verdict is its exit code.

``bench/startup.py`` times the first start on an empty database until it answers and
until its search index is written, against a bare bulk write of the very rows that
start-up stored, measured in the same run. Here it runs small, the index left to the
worker as a large directory's is, with limits no machine can miss, then with an
impossible one: the exit code follows the verdict, never this machine's speed.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
SMALL = ("--members", "2000", "--background-members", "500")


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("startup", *SMALL, "--startup-s", GENEROUS, "--ratio", GENEROUS)


def test_start_up_and_its_baseline_are_printed_with_their_ratio_ops_2(output: str) -> None:
    """The figures are numbers; the index was the worker's; the baseline wrote the same rows."""
    assert re.search(rf"^directory: 2,008 members, {NUMBER} MB file; {NUMBER} rows", output, re.M)
    runs = rf"\(runs: {NUMBER}, {NUMBER}"
    assert re.search(rf"^first start-up: ready to answer {NUMBER} s {runs}\)$", output, re.M)
    assert re.search(
        rf"^first start-up: fully indexed {NUMBER} s {runs}; index written by a worker, after\)$",
        output,
        re.M,
    ), output
    assert re.search(rf"^baseline .*: {NUMBER} s \(runs: .*\), same rows: True$", output, re.M)
    assert re.search(
        rf"^ready / baseline: {NUMBER}\u00d7; fully indexed / baseline: {NUMBER}\u00d7$",
        output,
        re.M,
    ), output
    for label in ("ready to answer", "fully indexed / baseline"):
        assert re.search(rf"^{label} {NUMBER}(\u00d7| s) \(target < 1e\+09", output, re.M), label
    assert re.search(rf"^index file's write-ahead log .*: {NUMBER} MB$", output, re.M), output
    assert "index log left 0.0 MB (target < 1 MB): PASS" in output
    assert "verdict: PASS (4 of 4 targets met)" in output


def test_an_impossible_target_fails_the_run_ops_2() -> None:
    """A start-up target no run can meet exits 1 and names it."""
    out = run_bench("startup", *SMALL, "--startup-s", IMPOSSIBLE, "--ratio", GENEROUS, expect=1)
    assert re.search(r"^ready to answer .* \(target < 0 s\): FAIL$", out, re.M), out
    assert "verdict: FAIL (1 of 4 missed: ready to answer)" in out
