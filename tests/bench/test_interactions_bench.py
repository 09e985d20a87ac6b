"""INT-1: the interaction benchmark runs end to end at a small size and prints its numbers.

``bench/interactions.py`` creates live chats (each a model of its kind's machine), runs a
mixed command load against a baseline measured in the same run, and projects memory for
50,000 live interactions. Here it runs small; the numbers are parsed and checked to be
sane, never compared with a timing target.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import run_bench

LIVE = 300
COMMANDS = 600
NUMBER = r"([\d,]+(?:\.\d+)?)"


def number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("interactions", "--live", str(LIVE), "--commands", str(COMMANDS))


def find(pattern: str, output: str) -> tuple[float, ...]:
    match = re.search(pattern, output)
    assert match, f"no match for {pattern!r} in:\n{output}"
    return tuple(number(g) for g in match.groups())


def test_live_interactions_are_created_int_1(output: str) -> None:
    """INT-1: N live chats exist, each accepted; add cost is timed for the first and last block."""
    (created, _, total) = find(
        rf"create: {NUMBER} live chats in {NUMBER} s = [\d,]+/s \({NUMBER} live interactions",
        output,
    )
    assert created == LIVE
    assert total >= LIVE
    first, last, ratio = find(
        rf"add cost: first \d+ {NUMBER} ms each, last \d+ {NUMBER} ms each;"
        rf" last/first {NUMBER}\u00d7",
        output,
    )
    assert first > 0 and last > 0 and ratio > 0
    empty, full, churn = find(
        rf"machine add\+remove per 1000: {NUMBER} ms with 0 models, {NUMBER} ms with \d+ models;"
        rf" ratio {NUMBER}\u00d7",
        output,
    )
    assert empty > 0 and full > 0 and churn > 0


def test_command_latency_and_baseline_are_reported_int_1(output: str) -> None:
    """INT-1: p50/p99 and commands/s of the mixed load, the baseline, and their ratio."""
    count, seconds, rate, p50, p99, worst = find(
        rf"commands: {NUMBER} in {NUMBER} s = {NUMBER} commands/s;"
        rf" p50 {NUMBER} ms, p99 {NUMBER} ms, max {NUMBER} ms",
        output,
    )
    assert count >= COMMANDS
    assert seconds > 0 and rate > 0
    assert 0 < p50 <= p99 <= worst
    b50, b99 = find(
        rf"baseline \(AsyncMachine trigger \+ INSERT, synchronous=(?:NORMAL|FULL)\):"
        rf" p50 {NUMBER} ms, p99 {NUMBER} ms",
        output,
    )
    assert 0 < b50 <= b99
    r50, r99 = find(rf"ratio: p50 {NUMBER}\u00d7, p99 {NUMBER}\u00d7 the baseline", output)
    assert r50 > 0 and r99 > 0


def test_memory_per_interaction_and_projection_are_reported_int_1(output: str) -> None:
    """INT-1: RSS before/after, bytes per live interaction, and the 50,000 projection."""
    before, after, _per = find(
        rf"memory: RSS {NUMBER} MiB before, {NUMBER} MiB after {LIVE} live chats"
        rf" = (-?{NUMBER[1:-1]}) bytes per live interaction",
        output,
    )
    assert before > 0 and after > 0  # bytes per interaction may even be negative when small
    (projected,) = find(rf"projection: 50000 live interactions = {NUMBER} MiB", output)
    assert projected > 0


def test_targets_have_verdicts(output: str) -> None:
    """Both targets are printed with a PASS/FAIL verdict; no internal errors were reported."""
    assert re.search(r"p99 command latency [\d.]+ ms \(target < 10 ms\): (PASS|FAIL)", output)
    assert re.search(
        r"projected RSS for 50000 live interactions [\d,.]+ MiB \(target < 1 GiB\): (PASS|FAIL)",
        output,
    )
    assert "ERRORS" not in output
