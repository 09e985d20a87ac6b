"""The desk phone's own consultation and attended transfer (ADP-5; CON-1, CON-7, CON-10, TRF-2).

On a call, the phone holds it and dials a colleague on a second dialog: that INVITE is the
member's `consult TARGET voice`, answered once the consultant is on (refused with the
engine's reason, or 480 when the consultation ends first). The phone's REFER on the
customer's dialog with a Replaces naming that second dialog (RFC 3891) completes the
consultation as a warm `transfer`; a Replaces naming no dialog is 481, someone else's 403.
The phones are SIPp (one scenario keeps both of alice's dialogs), audio is test RTP
endpoints checked by tone, the callers SIPp.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from tests.adapters.sip.harness import PhoneSystem, commands, owner, password, phone_system, state
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
    register,
    until,
)
from tests.adapters.sip.media.phone import Phone
from tests.support.console import Recording
from tests.support.sipp import Sipp


def legs_of(system: PhoneSystem, who: str) -> dict[str, int]:
    """The party's live dialogs: the call each carries → backline's RTP port for it."""
    calls = system.adapter.calls
    return {d.iid: calls.rtp_ports.get(d.leg, 0) for d in calls.dialogs.mine(who)}


async def test_the_desk_phone_consults_then_transfers_with_a_real_replaces_trf_2(
    tmp_path: Path,
) -> None:
    """Acceptance 1 (desk phone), CON-7, TRF-2: alice's phone answers Ann, holds her,
    dials 1002 (its `consult @bob voice`), bob's phone answers, alice and bob talk while Ann
    hears hold music; the phone REFERs Ann's dialog with a Replaces naming the dialog it
    really has → `transfer i2`: Ann hears bob, bob owns i1, alice's two dialogs get BYE
    after NOTIFY 100 and 200 (subscription terminated)."""
    async with phone_system(tmp_path) as system:
        told = Recording("console", reaches_everyone=True)
        system.core.delivery.attach(told)
        await system.type("alice", "ready")
        await system.type("bob", "notready lunch")
        bob = await agent(system, tmp_path, "bob", THIRD_HZ)
        voice = Phone(AGENT_HZ)
        await voice.open()
        phone = Sipp(tmp_path / "alice")
        await register(system, tmp_path, "1001", phone.port)
        scenario = phone.scenario("phone_consults", TALK="3000")
        fields = phone.fields(f"sip:backline@{system.target};{voice.port};1002;{system.target}")
        credentials = ("-au", "1001", "-ap", password("1001"))
        await phone.start(scenario, None, "-inf", str(fields), *credentials)
        alice = Line("@alice", phone, voice)
        ann = await caller(system, tmp_path, "Ann", "sales")
        lines = [ann, alice, bob]
        try:
            await connected(system, ann, alice)
            assert await listen(system, ann, alice) == {
                ann.who: {AGENT_HZ},
                alice.who: {CUSTOMER_HZ},
            }
            await system.type("bob", "ready")
            await until(lambda: system.call("i1").state == "held")  # the phone's hold
            await until(lambda: state(system, "i2") == "active")  # bob answered
            consulting = legs_of(system, "@alice")
            assert set(consulting) == {"i1", "i2"}  # the phone's two dialogs
            voice.target = ("127.0.0.1", consulting["i2"])  # its audio is on the new dialog
            await connected(system, bob)
            heard = await listen(system, ann, alice, bob)
            assert music(system, ann.who)
            assert heard[alice.who] == {THIRD_HZ} and heard[bob.who] == {AGENT_HZ}
            assert heard[ann.who] & {AGENT_HZ, THIRD_HZ} == set()  # the consultation is private
            await until(lambda: owner(system, "i1") == "bob")
            assert (await phone.wait(15)).ok, phone.errors()  # NOTIFY 100, 200; two BYEs
            assert legs_of(system, "@alice") == {}
            assert await listen(system, ann, bob) == {ann.who: {THIRD_HZ}, bob.who: {CUSTOMER_HZ}}
            assert not music(system, ann.who)
            assert commands(system, "alice") == [
                "accept i1", "hold i1", "consult @bob voice", "transfer i2",
            ]  # fmt: skip
            assert commands(system, "bob") == ["accept i2"]
            owners = [(e.subject, e.data["owner"]) for e in system.core.store.events(kind="owner")]
            assert owners == [("i1", "@alice"), ("i2", "@alice"), ("i1", "@bob")], owners
            to_bob = [m.text for m in told.sent if m.to == "@bob"]
            assert to_bob[0].startswith("@alice asks you to consult (voice) on i1."), to_bob
            assert to_bob[-1].startswith("You now own i1 voice with Ann (from @alice)."), to_bob
            to_alice = [m.text for m in told.sent if m.to == "@alice"]
            assert "@bob accepted i2 voice consultation about i1." in to_alice, to_alice
            to_ann = [m.text for m in told.sent if m.to == ann.who]
            assert to_ann[-2:] == ["You are on hold.", "You are now with Bob Baker."], to_ann
            assert not any(m.private for m in told.sent if m.to == ann.who)  # CON-2
            await system.type("bob", "end i1")
            assert (await bob.sipp.wait(10)).ok, bob.sipp.errors()
            assert (await ann.sipp.wait(10)).ok, ann.sipp.errors()
        finally:
            system.core.delivery.detach(told)
            for line in lines:
                await line.close()


async def test_a_refer_whose_replaces_names_no_dialog_is_refused_481_trf_2(
    tmp_path: Path,
) -> None:
    """TRF-2, RFC 3891: alice consults bob from chat (one dialog on her phone), then her
    phone REFERs with a made-up Replaces → 481, and nothing changes: alice still owns i1,
    i2 still connects her and bob; her `transfer` typed in chat then completes it."""
    async with phone_system(tmp_path) as system:
        await system.type("alice", "ready")
        alice = Sipp(tmp_path / "alice")
        await register(system, tmp_path, "1001", alice.port)
        backline = f"sip:backline@{system.target}"
        bob = Sipp(tmp_path / "bob")
        await register(system, tmp_path, "1002", bob.port)
        await bob.start("phone_answers")
        ann = await caller(system, tmp_path, "Ann", "sales")
        consultation = "sip:1002@127.0.0.1?Replaces=consult%3Bto-tag%3Db%3Bfrom-tag%3Da"
        refused = alice.scenario("phone_refer_refused", STATUS="481", WAIT="4000")
        fields = alice.fields(f"{backline};{consultation}")
        await alice.start(refused, None, "-inf", str(fields), "-trace_msg")
        await until(lambda: owner(system, "i1") == "alice")
        await system.type("bob", "ready")
        reply = await system.type("alice", "consult @bob")
        assert "Offered to @bob" in reply, reply
        await until(lambda: state(system, "i2") == "active")
        await until(lambda: was_refused(alice, 481))
        await system.settled()
        assert commands(system, "alice") == ["accept i1"]  # the REFER ran no command
        assert owner(system, "i1") == "alice" and state(system, "i2") == "active"
        reply = await system.type("alice", "transfer")
        assert "Warm transfer done: @bob owns i1" in reply, reply
        assert (await alice.wait(15)).ok, alice.errors()
        await system.type("bob", "end i1")
        assert (await bob.wait(10)).ok, bob.errors()
        assert (await ann.sipp.wait(10)).ok, ann.sipp.errors()
        await ann.phone.close()


def was_refused(phone: Sipp, status: int) -> bool:
    """Whether the phone (run with ``-trace_msg``) received ``status`` (its message log)."""
    logs = list(phone.directory.glob("*_messages.log"))
    return bool(logs) and f"\nSIP/2.0 {status} " in logs[0].read_text(errors="replace")


async def test_a_replaces_naming_another_members_dialog_is_refused_403_trf_2(
    tmp_path: Path,
) -> None:
    """TRF-2: bob talks to Ben; alice's phone, on Ann's call, REFERs with a Replaces naming
    bob's dialog exactly → 403; nobody's call changes hands."""
    async with phone_system(tmp_path) as system:
        await system.type("bob", "ready")
        bob = Sipp(tmp_path / "bob")
        await register(system, tmp_path, "1002", bob.port)
        await bob.start("phone_answers")
        ben = await caller(system, tmp_path, "Ben", "1002")
        await until(lambda: state(system, "i1") == "active")
        theirs = system.adapter.calls.dialogs.of("@bob")
        assert theirs is not None
        ids = f"{theirs.call_id};to-tag={theirs.local_tag};from-tag={theirs.remote_tag}"
        replaces = quote(ids, safe="")
        await system.type("alice", "ready")
        alice = Sipp(tmp_path / "alice")
        await register(system, tmp_path, "1001", alice.port)
        refer_to = f"sip:1002@{system.target}?Replaces={replaces}"
        refused = alice.scenario("phone_refer_refused", STATUS="403", WAIT="1000")
        fields = alice.fields(f"sip:backline@{system.target};{refer_to}")
        await alice.start(refused, None, "-inf", str(fields), "-trace_msg")
        ann = await caller(system, tmp_path, "Ann", "sales")
        await until(lambda: owner(system, "i2") == "alice")
        await until(lambda: was_refused(alice, 403))
        await system.settled()
        assert (owner(system, "i1"), owner(system, "i2")) == ("bob", "alice")
        assert commands(system, "alice") == ["accept i2"]
        for member, iid in (("alice", "i2"), ("bob", "i1")):
            await system.type(member, f"end {iid}")
        for sipp in (alice, bob, ann.sipp, ben.sipp):
            assert (await sipp.wait(10)).ok, sipp.errors()
        for line in (ann, ben):
            await line.phone.close()


async def dialling_phone(
    system: PhoneSystem, tmp_path: Path, extension: str, *, status: int, wait_ms: int
) -> Sipp:
    """Alice's phone (1001), registered: answers Ann, holds her, dials ``extension`` and
    expects ``status`` for that INVITE."""
    phone = Sipp(tmp_path / "alice")
    await register(system, tmp_path, "1001", phone.port)
    refused = phone.scenario("phone_consult_refused", STATUS=str(status), WAIT=str(wait_ms))
    fields = phone.fields(f"sip:backline@{system.target};4000;{extension};{system.target}")
    credentials = ("-au", "1001", "-ap", password("1001"))
    await phone.start(refused, None, "-inf", str(fields), *credentials, "-trace_msg")
    return phone


async def test_the_desk_phone_dialling_while_on_a_call_the_rules_refuse_is_403_con_1(
    tmp_path: Path,
) -> None:
    """CON-1: alice's phone holds Ann and dials alice's own extension → `consult @alice
    voice` is refused → 403 with the engine's reason; no consultation, Ann still held."""
    async with phone_system(tmp_path) as system:
        await system.type("alice", "ready")
        phone = await dialling_phone(system, tmp_path, "1001", status=403, wait_ms=500)
        ann = await caller(system, tmp_path, "Ann", "sales")
        await until(lambda: was_refused(phone, 403))
        log = next(phone.directory.glob("*_messages.log")).read_text(errors="replace")
        assert "SIP/2.0 403 You cannot consult yourself." in log
        assert commands(system, "alice") == ["accept i1", "hold i1"]  # refused: not stored
        assert state(system, "i1") == "held" and state(system, "i2") is None
        assert len(system.adapter.calls.dialogs.mine("@alice")) == 1
        await system.type("alice", "end i1")
        assert (await phone.wait(10)).ok, phone.errors()
        assert (await ann.sipp.wait(10)).ok, ann.sipp.errors()
        await ann.phone.close()


async def test_a_consultation_declined_before_it_connects_ends_the_phones_invite_con_10(
    tmp_path: Path,
) -> None:
    """CON-10: alice's phone holds Ann and dials 1002; bob's phone answers 486 (his
    `decline`) → the consultation ends and alice's INVITE gets 480; Ann's call is hers."""
    async with phone_system(tmp_path) as system:
        await system.type("alice", "ready")
        await system.type("bob", "notready lunch")
        bob = Sipp(tmp_path / "bob")
        await register(system, tmp_path, "1002", bob.port)
        await bob.start("phone_busy")
        phone = await dialling_phone(system, tmp_path, "1002", status=480, wait_ms=3000)
        ann = await caller(system, tmp_path, "Ann", "sales")
        await until(lambda: owner(system, "i1") == "alice")
        await system.type("bob", "ready")
        assert (await bob.wait(15)).ok, bob.errors()  # rang, said 486
        await until(lambda: was_refused(phone, 480))
        await system.settled()
        assert commands(system, "bob") == ["decline i2"]
        assert state(system, "i2") in ("ended", "closed") and owner(system, "i1") == "alice"
        assert len(system.adapter.calls.dialogs.mine("@alice")) == 1
        await system.type("alice", "end i1")
        assert (await phone.wait(10)).ok, phone.errors()
        assert (await ann.sipp.wait(10)).ok, ann.sipp.errors()
        await ann.phone.close()
