"""What a desk phone does becomes the member's command (ADP-5; INT-4, TRF-1, DIR-3).

A re-INVITE with ``a=sendonly`` is `hold` and ``a=sendrecv`` `resume`; a REFER is a blind
`transfer now` whose progress comes back as NOTIFY sipfrag (RFC 3515); `call` from chat
rings the caller's phone first. The phones are SIPp, the caller SIPp with a test RTP
endpoint. The desk phone's own consultation and attended transfer are in
``test_desk_phone_consult``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.adapters.sip.harness import commands, owner, phone_system
from tests.adapters.sip.lines import caller, register, until
from tests.support.sipp import Sipp


async def test_the_phones_hold_and_resume_are_the_members_commands_int_4(tmp_path: Path) -> None:
    """INT-4: sendonly → i1 held (Ann hears music), sendrecv → i1 active again."""
    async with phone_system(tmp_path) as system:
        await system.type("alice", "ready")
        phone = Sipp(tmp_path / "alice")
        await register(system, tmp_path, "1001", phone.port)
        await phone.start(
            "phone_holds", None, "-inf", str(phone.fields(f"sip:backline@{system.target}"))
        )
        ann = await caller(system, tmp_path, "Ann", "sales")
        await until(lambda: len(commands(system, "alice")) >= 3)
        assert commands(system, "alice") == ["accept i1", "hold i1", "resume i1"]
        assert system.call("i1").state == "active"
        await system.type("alice", "end")
        assert (await phone.wait(10)).ok, phone.errors()
        assert (await ann.sipp.wait(10)).ok, ann.sipp.errors()
        await ann.phone.close()


async def test_a_refer_from_the_phone_is_a_blind_transfer_with_notify_progress_trf_1(
    tmp_path: Path,
) -> None:
    """TRF-1: alice's phone REFERs Ann to 1002 → `transfer now @bob`; bob's phone rings and
    answers; alice gets NOTIFY 100 then 200 and is hung up; bob owns i1."""
    async with phone_system(tmp_path) as system:
        await system.type("alice", "ready")
        alice = Sipp(tmp_path / "alice")
        await register(system, tmp_path, "1001", alice.port)
        backline = f"sip:backline@{system.target}"
        fields = alice.fields(f"{backline};sip:1002@{system.target}")
        await alice.start("phone_refers", None, "-inf", str(fields))
        bob = Sipp(tmp_path / "bob")
        await register(system, tmp_path, "1002", bob.port)
        await bob.start("phone_answers")
        ann = await caller(system, tmp_path, "Ann", "sales")
        await until(lambda: owner(system, "i1") == "alice")
        await system.type("bob", "ready")
        assert (await alice.wait(15)).ok, alice.errors()
        await until(lambda: owner(system, "i1") == "bob")
        assert commands(system, "alice") == ["accept i1", "transfer now @bob"]
        await system.type("bob", "end")
        assert (await bob.wait(10)).ok, bob.errors()
        assert (await ann.sipp.wait(10)).ok, ann.sipp.errors()
        await ann.phone.close()


async def test_call_from_chat_rings_the_callers_phone_first_then_the_target_dir_3(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """DIR-3: alice types `call @bob` → her phone rings and answers, then bob's; bob's answer
    is his `accept`; both are connected; alice's `end` hangs up both phones."""
    caplog.set_level(logging.INFO, logger="backline.sip")
    async with phone_system(tmp_path) as system:
        phones = {}
        for member, extension in (("alice", "1001"), ("bob", "1002")):
            phones[member] = Sipp(tmp_path / member)
            await register(system, tmp_path, extension, phones[member].port)
            await phones[member].start("phone_answers")
        await system.type("bob", "ready")
        reply = await system.type("alice", "call @bob")
        assert "Calling (i1)" in reply, reply
        await until(
            lambda: (
                (c := system.adapter.port.voice().call("i1")) is not None and c.state == "active"
            )
        )
        rang = [r.getMessage() for r in caplog.records if "ringing" in r.getMessage()]
        assert rang == ["sip: ringing @alice for i1", "sip: ringing @bob for i1"]
        assert commands(system, "bob") == ["accept i1"]
        await system.settled()
        assert system.adapter.calls.mixed  # both legs are in the mix
        await system.type("alice", "end")
        for phone in phones.values():
            assert (await phone.wait(10)).ok, phone.errors()
