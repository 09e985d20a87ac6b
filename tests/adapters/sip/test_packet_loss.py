"""Calls complete when datagrams are lost (ADP-5): retransmissions carry them, duplicates
are absorbed.

SIPp loses 10 % of what it sends and of what it receives (``-lost 10``) on both sides: the
callers dialling ``sales`` and alice's desk phone. No seed can be fixed, so every run loses
different messages; the test asserts what holds whichever are lost: each caller's call is
offered once, answered by alice once, and ends, and nothing is left behind. What recovers
them: Timer A/E retransmit our INVITEs and BYEs, our 2xx is retransmitted until its ACK,
an INVITE retransmitted after our 2xx is absorbed by its transaction (never a second call), a phone
whose answers were all lost is rung again, and a 2xx never ACKed ends the call (§13.3.1.4).
"""

from __future__ import annotations

from pathlib import Path

from adapters.sip.transactions import Timers
from tests.adapters.sip.harness import PhoneSystem, phone_system
from tests.adapters.sip.lines import register, until
from tests.support.sipp import Sipp

CALLS = 10
PEER_TIMERS = Timers(t1=0.2, t2=1.6, t4=2.0)
"""RFC 3261's timers at 0.4 of their size. Timer J (64 T1 = 12.8 s) outlasts SIPp's BYE
retransmissions, whose last comes 11.5 s on (its T1 is 500 ms): a BYE whose 200s were all
lost still finds its transaction, not a 481. Timer H (also 12.8 s) ends a call whose ACKs
were all lost well within the 30 s the next caller waits for alice."""


def over(system: PhoneSystem) -> bool:
    """Every caller's call has ended and no leg is left."""
    calls = [system.adapter.port.voice().call(f"i{n}") for n in range(1, CALLS + 1)]
    ended = all(c is not None and c.state in ("wrapup", "closed") for c in calls)
    return ended and not system.adapter.calls.dialogs.all() and not system.adapter.calls.rtp_ports


async def test_calls_connect_through_packet_loss_by_retransmission_adp_5(tmp_path: Path) -> None:
    """ADP-5: ten callers through 10 % loss each way → ten calls, each offered once,
    accepted by alice once, and hung up; the callers' SIPp saw every call succeed."""
    async with phone_system(tmp_path, timers=PEER_TIMERS) as system:
        await system.type("alice", "ready")
        phone = Sipp(tmp_path / "alice")
        await register(system, tmp_path, "1001", phone.port)
        await phone.start("phone_answers", None, "-m", str(3 * CALLS), "-lost", "10")
        try:
            await _calls_through_loss(system, tmp_path)
        finally:
            phone.stop()  # the phone may have taken extra INVITEs: it is stopped, not awaited
            await phone.wait(5)


async def _calls_through_loss(system: PhoneSystem, tmp_path: Path) -> None:
    callers = Sipp(tmp_path / "callers")
    outcome = await callers.run(
        "caller_bench", system.target, "-s", "sales", "-m", str(CALLS), "-l", "1",
        "-lost", "10", timeout=100,
    )  # fmt: skip
    assert outcome.ok, outcome.output[-3000:] + callers.errors()
    await until(lambda: over(system), timeout=30)
    calls = [f"i{n}" for n in range(1, CALLS + 1)]
    customers = sorted(str(e["customer"]) for e in system.events("created"))
    offered = [e.subject for e in system.core.store.events(kind="offered")]
    accepted = [e["text"] for e in system.events("command") if e["platform"] == "sip"]
    assert customers == sorted(f"Caller-{n}" for n in range(1, CALLS + 1)), customers
    assert offered == calls, offered  # once each: no retransmission re-offered a call
    assert accepted == [f"accept {iid}" for iid in calls], accepted
