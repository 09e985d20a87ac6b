"""INT-1: the interaction benchmark runs end to end at a small size; its verdict is its exit code.

``bench/interactions.py`` creates live chats (each a model of its kind's machine), runs a
mixed command load against a baseline measured in the same run, watches GC and loop-lag
pauses, and projects memory for 50,000 live interactions. Here it runs small; the numbers
are parsed and checked to be sane. Its targets are passed on the command line: limits no run
can miss give exit 0, one limit no run can meet gives exit 1 and names that target, whatever
this machine's speed.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench

LIVE = 300
COMMANDS = 600
NUMBER = r"([\d,]+(?:\.\d+)?)"
SMALL = ("--live", str(LIVE), "--commands", str(COMMANDS))
TARGETS = {  # option → the label of its verdict line
    "--max-pause-ms": "max pause over creation and load",
    "--rss-kb": "RSS per live interaction",
    "--p99-ratio": "p99 command / baseline p99",
}


def number(text: str) -> float:
    return float(text.replace(",", ""))


def limits(impossible: str | None = None) -> list[str]:
    """Every target generous, except ``impossible`` (an option), which no run can meet."""
    out = []
    for option in TARGETS:
        if option == impossible:
            # RSS per interaction can be negative in a small run: only -inf is out of reach
            out.append(f"{option}=-inf" if option == "--rss-kb" else f"{option}={IMPOSSIBLE}")
        else:
            out.append(f"{option}={GENEROUS}")
    return out


@pytest.fixture(scope="module")
def output() -> str:
    return run_bench("interactions", *SMALL, *limits(), expect=0)


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


def test_pauses_are_watched_over_creation_and_load(output: str) -> None:
    """The worst GC pause and loop lag of each phase, and the heap's figures, are printed."""
    for phase in ("creation", "load"):
        gc_ms, lag_ms = find(
            rf"pauses during {phase}: max GC {NUMBER} ms, max loop lag {NUMBER} ms", output
        )
        assert gc_ms >= 0 and lag_ms >= 0
    per, frozen, _ = find(
        rf"gc: {NUMBER} tracked objects per live interaction; {NUMBER} frozen;"
        rf" {NUMBER} over-budget full collections",
        output,
    )
    assert 0 < per < 20  # a handful per live interaction (about 115 before issue 12)
    assert frozen > 0  # the start-up heap


def test_met_targets_pass_and_exit_0(output: str) -> None:
    """Every target is printed PASS against the limit given; the run exited 0 (the fixture)."""
    for label in TARGETS.values():
        line = rf"^{re.escape(label)} -?[\d,.]+ ?\S+ \(target < 1e\+09 ?\S+\): PASS$"
        assert re.search(line, output, re.M), output
    assert "verdict: PASS (3 of 3 targets met)" in output
    assert "ERRORS" not in output


@pytest.mark.parametrize("option", list(TARGETS))
def test_a_missed_target_fails_and_exits_1(option: str) -> None:
    """One target no run can meet: its line says FAIL, the others PASS, and the run exits 1."""
    out = run_bench("interactions", *SMALL, *limits(option), expect=1)
    for other, label in TARGETS.items():
        verdict = "FAIL" if other == option else "PASS"
        assert re.search(rf"^{re.escape(label)} .*: {verdict}$", out, re.M), out
    assert f"verdict: FAIL (1 of 3 missed: {TARGETS[option]})" in out
