"""Who hears whom on real RTP, by tone analysis (ADP-5; CON-7, TRF-2, CNF-1/2, SUP-1..3).

The customer sends 440 Hz, the agent 880 Hz, the third party (a consultant, a conference
member or the supervisor) 1320 Hz; Goertzel over what each phone received says who heard
whom. Signalling is SIPp (a caller and registered desk phones); the commands are typed in
chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.sip.harness import PhoneSystem, phone_system
from tests.adapters.sip.lines import (
    AGENT_HZ,
    CUSTOMER_HZ,
    THIRD_HZ,
    Line,
    agent,
    caller,
    connected,
    listen,
    music,
    until,
)


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[PhoneSystem]:
    """alice, bob ready; sam (supervisor) logged in."""
    async with phone_system(tmp_path) as running:
        for member in ("alice", "bob"):
            await running.type(member, "ready")
        yield running


@pytest.fixture
async def on_a_call(system: PhoneSystem, tmp_path: Path) -> AsyncIterator[list[Line]]:
    """Ann called sales; alice's phone answered; Ann and alice talk (i1)."""
    await system.type("bob", "notready lunch")
    alice = await agent(system, tmp_path, "alice", AGENT_HZ)
    ann = await caller(system, tmp_path, "Ann", "sales")
    await connected(system, ann, alice)
    await until(lambda: system.call("i1").state == "active")
    await system.type("bob", "ready")
    lines = [ann, alice]
    yield lines
    for line in lines:
        await line.close()


async def test_consult_holds_the_caller_then_the_warm_transfer_bridges_the_consultant_con_7(
    system: PhoneSystem, tmp_path: Path, on_a_call: list[Line]
) -> None:
    """Acceptance 1 (chat): Ann hears alice; consult → Ann on hold music, alice hears bob;
    transfer → Ann hears bob, alice's phone is hung up."""
    ann, alice = on_a_call
    heard = await listen(system, ann, alice)
    assert heard == {ann.who: {AGENT_HZ}, alice.who: {CUSTOMER_HZ}}
    bob = await agent(system, tmp_path, "bob", THIRD_HZ)
    on_a_call.append(bob)
    reply = await system.type("alice", "consult @bob")
    assert "Offered to @bob" in reply, reply
    await connected(system, bob)
    await until(lambda: system.call("i2").state == "active")
    heard = await listen(system, ann, alice, bob)
    assert music(system, ann.who)
    assert heard[alice.who] == {THIRD_HZ}
    assert heard[bob.who] == {AGENT_HZ}
    assert heard[ann.who] & {AGENT_HZ, THIRD_HZ} == set()  # the consultation is private
    reply = await system.type("alice", "transfer")
    assert "Warm transfer done: @bob owns i1" in reply, reply
    await until(lambda: system.adapter.calls.dialogs.of("@alice") is None)
    heard = await listen(system, ann, bob)
    assert heard == {ann.who: {THIRD_HZ}, bob.who: {CUSTOMER_HZ}}
    assert not music(system, ann.who)
    assert (await alice.sipp.wait(5)).ok  # alice's phone got its BYE and answered it
    assert system.call("i1").owner == "bob"


async def test_a_three_party_conference_hears_the_others_and_mute_removes_one_cnf_2(
    system: PhoneSystem, tmp_path: Path, on_a_call: list[Line]
) -> None:
    """Acceptance 2: Ann, alice, bob each hear the other two, never themselves;
    `mute @bob` → nobody hears bob, bob still hears both."""
    ann, alice = on_a_call
    bob = await agent(system, tmp_path, "bob", THIRD_HZ)
    on_a_call.append(bob)
    await system.type("alice", "conference now @bob")
    await connected(system, bob)
    await until(lambda: (leg := system.call("i1").leg("@bob")) is not None and leg.connected)
    heard = await listen(system, ann, alice, bob)
    assert heard == {
        ann.who: {AGENT_HZ, THIRD_HZ},
        alice.who: {CUSTOMER_HZ, THIRD_HZ},
        bob.who: {CUSTOMER_HZ, AGENT_HZ},
    }
    await system.type("alice", "mute @bob")
    heard = await listen(system, ann, alice, bob)
    assert heard == {
        ann.who: {AGENT_HZ},
        alice.who: {CUSTOMER_HZ},
        bob.who: {CUSTOMER_HZ, AGENT_HZ},
    }


@pytest.mark.parametrize(
    ("command", "customer_hears_sam", "agent_hears_sam"),
    [("monitor", False, False), ("coach", False, True), ("barge", True, True)],
)
async def test_supervisors_are_heard_as_their_mode_says_sup_1(
    system: PhoneSystem,
    tmp_path: Path,
    on_a_call: list[Line],
    command: str,
    customer_hears_sam: bool,
    agent_hears_sam: bool,
) -> None:
    """Acceptance 3: monitor — nobody hears sam; coach — alice only; barge — both.
    sam always hears Ann and alice."""
    ann, alice = on_a_call
    sam = await agent(system, tmp_path, "sam", THIRD_HZ)
    on_a_call.append(sam)
    reply = await system.type("sam", f"{command} @alice")
    assert "i1" in reply, reply
    await connected(system, sam)
    heard = await listen(system, ann, alice, sam)
    assert (THIRD_HZ in heard[ann.who]) is customer_hears_sam
    assert (THIRD_HZ in heard[alice.who]) is agent_hears_sam
    assert heard[sam.who] == {CUSTOMER_HZ, AGENT_HZ}
    assert AGENT_HZ in heard[ann.who] and CUSTOMER_HZ in heard[alice.who]
