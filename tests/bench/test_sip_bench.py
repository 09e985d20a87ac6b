"""ADP-5: the SIP call-setup benchmark runs end to end, small; its verdict is its exit code.

``bench/sip.py`` times SIPp callers through backline's engine (offer, an auto-answering SIPp
phone accepting, committed) against SIPp's own ``uas`` in the same run. Here 30 calls run
once with a target no run can miss and once with one no run can meet: the exit code follows
the verdict whatever this machine's speed. 30 calls last well under SIPp's one-second
statistics dumps, so each rate is the whole run's (the full-size run has a steady window).
``python bench/sip.py`` measures the real target (backline at 25 % of SIPp's rate or
better).
"""

from __future__ import annotations

import re

from tests.bench.run import GENEROUS, IMPOSSIBLE, run_bench
from tests.support.sipp import require_sipp

SMALL = ("--calls", "30", "--baseline-calls", "30", "--rate", "100")
NUMBER = r"(\d+(?:\.\d+)?)"


def test_both_rates_are_measured_and_every_call_reached_an_agent_adp_5() -> None:
    """ADP-5: a generous target passes; both rates are printed; all 30 calls were accepted."""
    require_sipp()
    output = run_bench("sip", *SMALL, "--target", GENEROUS, expect=0)
    assert re.search(rf"SIPp uas \(baseline\)\s+{NUMBER} calls/s \(30 calls over", output), output
    assert re.search(rf"backline -> phones\s+{NUMBER} calls/s \(30 calls over", output), output
    assert "calls accepted by agents through the engine: 30 of 30" in output
    costs = re.search(
        rf"backline process per call: {NUMBER} ms CPU, SIP messages {NUMBER} in / {NUMBER} out,"
        rf" {NUMBER} engine commands, {NUMBER} SQL statements, {NUMBER} commits",
        output,
    )
    assert costs, output
    cpu, received, sent, commands, _, commits = map(float, costs.groups())
    assert cpu > 0 and received >= 4 and sent >= 4  # INVITE, ACK, BYE and the phone's answers
    assert commands >= 1 and commits >= 1  # each call's accept, committed
    assert "verdict: PASS" in output


def test_an_impossible_target_exits_1_adp_5() -> None:
    """ADP-5: a target of 0 can never be met: FAIL, exit code 1."""
    require_sipp()
    output = run_bench("sip", *SMALL, "--target", IMPOSSIBLE, expect=1)
    assert "verdict: FAIL" in output
