"""The SIP stack's timers (ADP-5): one loop timer for all, the RFC 3261 timers' order kept.

Whatever the loop's lag, what is due runs earliest first, a timer stopped (even by another
due at the same moment, as a transaction's timeout stops its retransmission) never runs,
a failing callback is reported to the loop and the others still run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from adapters.sip.deadlines import Deadlines
from tests.adapters.sip.lines import until


async def test_timers_run_earliest_first_and_stopped_ones_never_adp_5() -> None:
    """ADP-5: timers of different delays run in due order; a stopped one does not run."""
    deadlines = Deadlines()
    ran: list[str] = []
    deadlines.start(0.03, lambda: ran.append("third"))
    deadlines.start(0.01, lambda: ran.append("first"))
    deadlines.start(0.02, lambda: ran.append("second"))
    deadlines.stop(deadlines.start(0.015, lambda: ran.append("stopped")))
    assert len(deadlines) == 3
    await until(lambda: len(deadlines) == 0)
    assert ran == ["first", "second", "third"]


async def test_a_timer_stopped_by_one_due_with_it_does_not_run_adp_5() -> None:
    """ADP-5: a timeout that stops its transaction's retransmission timer wins over it,
    even when the loop is late and both are due at once."""
    deadlines = Deadlines()
    ran: list[str] = []
    retransmit = deadlines.start(0.02, lambda: ran.append("retransmitted"))

    def timeout() -> None:
        ran.append("timed out")
        deadlines.stop(retransmit)

    deadlines.start(0.01, timeout)
    asyncio.get_running_loop().call_soon(time.sleep, 0.05)  # the loop is late: both are due
    await until(lambda: len(deadlines) == 0)
    await asyncio.sleep(0.05)
    assert ran == ["timed out"]


async def test_a_failing_timer_is_reported_and_the_others_run_adp_5() -> None:
    """ADP-5: a callback that raises goes to the loop's exception handler; a timer started
    by a callback runs too; ``close`` stops whatever is left."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    deadlines = Deadlines()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    deadlines.start(0.01, broken)
    deadlines.start(0.02, lambda: deadlines.start(0.01, lambda: ran.append("started later")))
    deadlines.start(60, lambda: ran.append("never"))
    await until(lambda: ran == ["started later"])
    assert [str(c["exception"]) for c in reported] == ["boom"]
    assert len(deadlines) == 1
    deadlines.close()
    assert len(deadlines) == 0
    loop.set_exception_handler(None)
