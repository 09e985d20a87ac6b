"""Calls between SIPp peers through backline's engine (ADP-5, INT-2, INT-3).

A SIPp phone registers as an agent (digest), a SIPp caller dials a routing number, the
engine offers the call, the phone rings and answers, and the two are bridged; each side
can hang up; a caller who gives up cancels the phone's ringing; a busy phone declines.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.adapters.sip.harness import PhoneSystem, phone_system
from tests.adapters.sip.lines import register
from tests.support.sipp import Sipp


async def alices_phone(system: PhoneSystem, tmp_path: Path, scenario: str, *extra: str) -> Sipp:
    """alice is ready and her registered SIPp phone plays ``scenario``."""
    await system.type("alice", "ready")
    phone = Sipp(tmp_path / "alice")
    await register(system, tmp_path, "1001", phone.port)
    await phone.start(scenario, None, *extra)
    return phone


async def test_a_call_to_sales_rings_the_ready_agents_phone_and_bridges_adp_5(
    tmp_path: Path,
) -> None:
    """ADP-5: the caller dials `sales`, alice's registered phone answers, the caller hangs up."""
    async with phone_system(tmp_path) as system:
        phone = await alices_phone(system, tmp_path, "phone_answers")
        caller = Sipp(tmp_path / "ann")
        outcome = await caller.run("uac", system.target, "-s", "sales", "-d", "500")
        assert outcome.ok, outcome.output + caller.errors()
        answered = await phone.wait(10)
        assert answered.ok, answered.output + phone.errors()
        await system.settled()
        call = system.call("i1")
        assert call.owner == "alice"
        assert call.state == "wrapup"
        assert system.adapter.calls.dialogs.all() == []


async def test_the_agent_hanging_up_ends_the_call_and_the_caller_gets_a_bye_adp_5(
    tmp_path: Path,
) -> None:
    """ADP-5: the desk phone's BYE is alice's `end`; the caller is hung up."""
    async with phone_system(tmp_path) as system:
        fields = Sipp(tmp_path / "fields").fields(f"sip:backline@{system.target}")
        phone = await alices_phone(system, tmp_path, "phone_hangs_up", "-inf", str(fields))
        caller = Sipp(tmp_path / "ann")
        fields = caller.fields("4000")
        outcome = await caller.run("caller_rtp", system.target, "-s", "1001", "-inf", str(fields))
        assert outcome.ok, outcome.output + caller.errors()
        assert (await phone.wait(10)).ok, phone.errors()
        await system.settled()
        assert system.call("i1").state == "wrapup"
        ended = [e for e in system.events("command") if "end i1" in str(e.get("text"))]
        assert ended and ended[0]["actor"] == "alice", system.events("command")


async def test_a_caller_who_gives_up_cancels_the_ringing_phone_int_3(tmp_path: Path) -> None:
    """INT-3: the caller's CANCEL → 487 to them, the agent's phone is cancelled too."""
    async with phone_system(tmp_path) as system:
        phone = await alices_phone(system, tmp_path, "phone_rings")
        caller = Sipp(tmp_path / "ann")
        outcome = await caller.run("caller_cancels", system.target, "-s", "sales")
        assert outcome.ok, outcome.output + caller.errors()
        rang = await phone.wait(10)
        assert rang.ok, rang.output + phone.errors()
        await system.settled()
        assert system.call("i1").state in ("wrapup", "closed")
        assert system.adapter.calls.dialogs.all() == []


async def test_a_busy_phone_declines_the_offer_int_3(tmp_path: Path) -> None:
    """INT-3: 486 from alice's phone is her `decline`; the call is offered to bob next."""
    async with phone_system(tmp_path) as system:
        alice = await alices_phone(system, tmp_path, "phone_busy")
        caller = Sipp(tmp_path / "ann")
        await caller.start("caller_cancels", system.target, "-s", "sales")
        assert (await alice.wait(10)).ok, alice.errors()
        await system.settled()
        declined = [e for e in system.events("command") if e.get("text") == "decline i1"]
        assert declined and declined[0]["actor"] == "alice"
        assert (await caller.wait(10)).ok, caller.errors()


@pytest.mark.parametrize(
    ("presence", "status"), [("logout", 480), ("notready lunch", 480), ("busy", 486)]
)
async def test_calling_an_unavailable_member_is_refused_from_presence_adp_5(
    tmp_path: Path, presence: str, status: int
) -> None:
    """ADP-5: a call to 1001 while alice is logged off / not ready → 480; on a call → 486."""
    async with phone_system(tmp_path) as system:
        if presence == "busy":
            answering = await alices_phone(system, tmp_path, "phone_answers")
            first = Sipp(tmp_path / "first")
            await first.start(
                "caller_rtp", system.target, "-s", "1001", "-inf", str(first.fields("4000"))
            )
            await until_state(system, "i1", "active")
        else:
            await system.type("alice", presence)
        caller = Sipp(tmp_path / "ann")
        refused = caller.scenario("caller_refused", STATUS=str(status))
        outcome = await caller.run(refused, system.target, "-s", "1001")
        assert outcome.ok, outcome.output + caller.errors()
        if presence == "busy":
            first.stop()
            answering.stop()


async def until_state(system: PhoneSystem, iid: str, state: str) -> None:
    """Wait for the call to reach ``state``."""
    for _ in range(200):
        await system.settled()
        found = system.adapter.port.voice().call(iid)
        if found is not None and found.state == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{iid} never reached {state}")


async def test_a_phone_that_does_not_authenticate_is_challenged_adp_5(tmp_path: Path) -> None:
    """ADP-5: an INVITE from a non-trunk address without credentials → 401; a wrong
    password at REGISTER → 401 again, and nothing is registered."""
    async with phone_system(tmp_path, trunks="127.0.0.2") as system:
        caller = Sipp(tmp_path / "eve")
        refused = caller.scenario("caller_refused", STATUS="401")
        outcome = await caller.run(refused, system.target, "-s", "sales")
        assert outcome.ok, outcome.output + caller.errors()
        reg = Sipp(tmp_path / "reg")
        fields = reg.fields("1001;;5999")
        outcome = await reg.run(
            "register_wrong", system.target, "-inf", str(fields), "-au", "1001", "-ap", "nope"
        )
        assert outcome.ok, outcome.output + reg.errors()
        assert system.adapter.registrar.registered() == []
        assert system.core.store.events(kind="customer_arrived") == []


async def test_a_call_over_tcp_is_bridged_to_a_phone_on_udp_adp_5(tmp_path: Path) -> None:
    """ADP-5: the caller's INVITE, ACK and BYE arrive over TCP (answered on the same
    connection); alice's phone is on UDP."""
    async with phone_system(tmp_path) as system:
        phone = await alices_phone(system, tmp_path, "phone_answers")
        caller = Sipp(tmp_path / "ann")
        outcome = await caller.run("caller_bench", system.target, "-s", "sales", "-t", "t1")
        assert outcome.ok, outcome.output + caller.errors()
        assert (await phone.wait(10)).ok, phone.errors()
        await system.settled()
        assert system.call("i1").state == "wrapup"
