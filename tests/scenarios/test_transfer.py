"""Transfers through the console: instant, to groups, declined, to voicemail (TRF-1..6, GRP-5)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.state import snapshot
from tests.support.console import Console, copy_rules
from tests.support.state import (
    assert_one_owner,
    available,
    call_from_ann,
    chat_with_ann,
    parties,
    presence,
    ringing,
    stored,
)

REF = re.compile(r"\(ref [0-9a-f]{6}\)$")
ANN = "customer:Ann"


# --- helpers ------------------------------------------------------------------------------


@asynccontextmanager
async def edited_console(tmp_path: Path, old: str, new: str) -> AsyncIterator[Console]:
    """A console on a copy of the rules with one policy line changed."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert old in text
    policy.write_text(text.replace(old, new, 1), encoding="utf-8")
    driver = Console(rules, tmp_path / "db")
    try:
        yield driver
    finally:
        driver.close()


# --- TRF-1 / TRF-2: instant transfers, one owner at every step ----------------------------


async def test_instant_transfer_of_a_voice_call_trf_1_trf_2(console: Console) -> None:
    """TRF-1 / TRF-2: `transfer @bob` holds Ann and rings bob; alice owns it until bob accepts,
    then bob is the one owner and alice is released to after-call work."""
    await call_from_ann(console, "bob")
    console.mark()
    await console.run("@alice: transfer @bob")
    assert console.received("@alice") == [
        "Transferring i1: Offered to @bob. The caller is on hold."
    ]
    assert console.received("@bob") == [
        "(i1) @alice transfers i1 voice with Ann to you. `accept i1` or `decline i1` within 20s."
    ]
    assert console.received(ANN) == ["(i1) You are on hold."]
    assert stored(console, "i1")["state"] == "held"
    assert_one_owner(console, "i1", "alice")
    assert parties(console, "i1") == {"@alice": ("owner", True), ANN: ("customer", True)}

    console.mark()
    await console.run("@bob: accept")
    assert console.received("@bob") == [
        "You now own i1 voice with Ann (from @alice).",
        "Contact: Ann",
    ]
    assert console.received("@alice") == [
        "(i1) @bob took over i1. Mark it `done i1`.",
        "(i1) You are in after-call work for up to 2m, then ready again; "
        "type `ready` to leave it sooner.",
    ]
    assert console.received(ANN) == ["(i1) You are now with Bob Baker."]
    assert stored(console, "i1")["state"] == "active"
    assert_one_owner(console, "i1", "bob")
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        ANN: ("customer", True),
        "@bob": ("owner", True),
    }
    assert presence(console, "alice") == "after_call_work"
    assert presence(console, "bob") == "busy"
    assert available(console, "support") == 0

    await console.run("@bob: say hello Ann, Bob here\nsim say Ann hi Bob")
    assert console.received(ANN)[-1] == "(i1) Bob Baker: hello Ann, Bob here"
    assert console.received("@bob")[-1] == "(i1) Ann: hi Bob"
    assert "(i1) Ann: hi Bob" not in console.received("@alice")
    await console.run("@alice: done i1\n@alice: ready")
    assert stored(console, "i1")["state"] == "active"
    assert_one_owner(console, "i1", "bob")
    assert available(console, "support") == 1


async def test_instant_transfer_of_a_chat_carries_the_transcript_trf_1_trf_3(
    console: Console,
) -> None:
    """TRF-1 / TRF-3: a chat transfer is not held; bob's briefing has the case and transcript."""
    await chat_with_ann(console, "bob")
    console.mark()
    await console.run("@alice: transfer @bob")
    assert console.received("@alice") == ["Transferring i1: Offered to @bob."]
    assert stored(console, "i1")["state"] == "active"
    assert_one_owner(console, "i1", "alice")
    assert console.received(ANN) == []
    await console.run("@bob: accept")
    assert console.received("@bob")[1:] == [
        "You now own i1 chat with Ann (from @alice).",
        "Contact: Ann",
        "first message: hello I need help",
        "Transcript so far:",
        "  Ann: hello I need help",
        "  Ann: order 42 is late",
        "  @alice: sorry Ann, checking order 42",
    ]
    assert console.received(ANN) == ["(i1) You are now with Bob Baker."]
    assert_one_owner(console, "i1", "bob")
    assert parties(console, "i1")["@alice"] == ("member", False)
    assert presence(console, "alice") == "after_call_work"


async def test_instant_transfer_of_an_email_trf_1_trf_2(console: Console) -> None:
    """TRF-1 / TRF-2: an inbound email moves to bob with its subject."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim email Cat @alice Refund please\n@alice: accept"
    )
    console.mark()
    await console.run("@alice: transfer @bob")
    assert console.received("@bob") == [
        "(i1) @alice transfers i1 email with Cat to you: “Refund please”. "
        "`accept i1` or `decline i1` within 20s."
    ]
    assert_one_owner(console, "i1", "alice")
    await console.run("@bob: accept i1")
    assert console.received("@bob")[1:] == [
        "You now own i1 email with Cat (from @alice).",
        "Contact: Cat",
        "subject: Refund please",
    ]
    assert console.received("customer:Cat") == ["(i1) You are now with Bob Baker."]
    assert stored(console, "i1")["state"] == "active"
    assert_one_owner(console, "i1", "bob")
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        "customer:Cat": ("customer", True),
    }


async def test_only_the_owner_transfers_and_one_transfer_at_a_time_trf_2(
    console: Console,
) -> None:
    """TRF-2: a second transfer while one rings is refused, as is a transfer by a non-owner."""
    await call_from_ann(console, "bob", "chen")
    await console.run("@alice: transfer @bob\n@alice: transfer @chen")
    assert console.last("@alice").startswith("i1 already has a transfer pending (@bob).")
    await console.run("@bob: accept\n@alice: focus i1\n@alice: transfer @chen")
    assert console.last("@alice").startswith("You are no longer connected to i1;")
    assert REF.search(console.last("@alice"))
    assert_one_owner(console, "i1", "bob")
    assert not any("i1" in line for line in console.received("@chen", since_mark=False))


async def test_a_member_who_handed_over_can_no_longer_act_int_4_trf_2(console: Console) -> None:
    """INT-4 / TRF-2: after the transfer alice may read i1 but not hold, end, say or consult:
    Ann hears no hold music while bob talks, and nothing is stored."""
    await call_from_ann(console, "bob", "chen")
    await console.run("@alice: transfer @bob\n@bob: accept")
    before = snapshot(console.core.store)["interactions"]
    console.mark()
    for command in (
        "hold i1",
        "end i1",
        "say i1 hello",
        "transfer i1 @chen",
        "conference i1 @chen",
    ):
        await console.run(f"@alice: {command}")
        assert console.last("@alice").startswith(
            "You are no longer connected to i1; `history i1` shows what happened."
        ), command
    assert console.received(ANN) == []
    assert console.received("@bob") == []
    assert snapshot(console.core.store)["interactions"] == before
    await console.run("@alice: history i1")
    assert console.last("@alice").startswith("History of i1")
    assert_one_owner(console, "i1", "bob")


# --- TRF-3: history travels --------------------------------------------------------------


async def test_history_travels_to_the_new_owner_and_supervisors_trf_3(console: Console) -> None:
    """TRF-3: bob (new owner) and sam (supervisor) see i1's whole history; dana may not."""
    await chat_with_ann(console, "bob")
    await console.run("@alice: transfer @bob\n@bob: accept\n@bob: say Bob here")
    expected = [
        "said private=False, text=hello I need help, who=customer:Ann",
        "accepted by=@alice, purpose=route",
        "said private=False, text=order 42 is late, who=customer:Ann",
        "said private=False, text=sorry Ann, checking order 42, who=@alice",
        "offered purpose=transfer, to=['@bob']",
        "accepted by=@bob, purpose=transfer",
        "owner owner=@bob",
        "left role=member, who=@alice",
        "said private=False, text=Bob here, who=@bob",
    ]
    for reader in ("bob", "sam"):
        await console.run(f"@{reader}: history i1")
        shown = console.last(f"@{reader}")
        assert shown.startswith("History of i1:")
        positions = [shown.find(line) for line in expected]
        assert -1 not in positions, (reader, shown)
        assert positions == sorted(positions), reader
    await console.run("@dana: history i1")
    assert console.last("@dana").startswith("You never took part in i1;")


# --- TRF-4: declined or timed out -------------------------------------------------------


async def test_declined_voice_transfer_comes_back_on_hold_trf_4(console: Console) -> None:
    """TRF-4: bob declines; the call is back with alice, still on hold; she decides."""
    await call_from_ann(console, "bob")
    await console.run("@alice: transfer @bob")
    console.mark()
    await console.run("@bob: decline")
    assert console.received("@bob") == ["You declined i1."]
    assert console.received("@alice") == [
        "(i1) @bob declined. i1 is back with you, still on hold; `resume`, or transfer it "
        "elsewhere."
    ]
    assert console.received(ANN) == []
    assert stored(console, "i1")["state"] == "held"
    assert_one_owner(console, "i1", "alice")
    assert parties(console, "i1") == {"@alice": ("owner", True), ANN: ("customer", True)}
    assert presence(console, "bob") == "ready"
    await console.run("@alice: resume")
    assert console.received(ANN) == ["(i1) You are off hold."]
    assert stored(console, "i1")["state"] == "active"


async def test_voice_transfer_not_accepted_in_time_comes_back_trf_4(console: Console) -> None:
    """TRF-4: after `routing.accept_timeout` (20 s) the call comes back to alice, on hold."""
    await call_from_ann(console, "bob")
    await console.run("@alice: transfer @bob")
    console.mark()
    await console.run("tick 19s")
    assert console.received("@alice") == []
    await console.run("tick 2s")
    assert console.received("@bob") == ["(i1) The offer of i1 timed out."]
    assert console.received("@alice") == [
        "(i1) @bob did not answer. i1 is back with you, still on hold; `resume`, or transfer it "
        "elsewhere."
    ]
    assert stored(console, "i1")["state"] == "held"
    assert_one_owner(console, "i1", "alice")
    await console.run("@bob: accept i1")
    assert REF.search(console.last("@bob"))
    assert_one_owner(console, "i1", "alice")


async def test_declined_chat_transfer_comes_back_trf_4(console: Console) -> None:
    """TRF-4: a declined chat transfer is back with alice, still active; Ann notices nothing."""
    await chat_with_ann(console, "bob")
    console.mark()
    await console.run("@alice: transfer @bob\n@bob: decline")
    assert console.received("@alice") == [
        "Transferring i1: Offered to @bob.",
        "(i1) @bob declined. i1 is back with you; keep it, or transfer it elsewhere.",
    ]
    assert stored(console, "i1")["state"] == "active"
    assert_one_owner(console, "i1", "alice")
    assert console.received(ANN) == []
    await console.run("sim say Ann hello?")
    assert console.received("@alice")[-1] == "(i1) Ann: hello?"


# --- TRF-5: to a group with nobody available -----------------------------------------------


async def test_transfer_to_a_group_waits_until_someone_is_ready_trf_5_grp_3(
    console: Console,
) -> None:
    """TRF-5 / GRP-3: nobody in billing is ready: alice is told it waits; dana becomes ready
    and is offered the call; alice owns it until dana accepts."""
    await call_from_ann(console)
    console.mark()
    await console.run("@alice: transfer group:billing")
    assert console.received("@alice") == [
        "Transferring i1: nobody in group:billing is available now; waiting up to 30s. "
        "The caller is on hold."
    ]
    assert stored(console, "i1")["state"] == "held"
    await console.run("tick 10s")
    assert_one_owner(console, "i1", "alice")
    await console.run("@dana: ready")
    assert (
        "(i1) @alice transfers i1 voice with Ann to you via group:billing. "
        "`accept i1` or `decline i1` within 20s."
    ) in console.received("@dana")
    assert_one_owner(console, "i1", "alice")
    await console.run("@dana: accept")
    assert_one_owner(console, "i1", "dana")
    assert stored(console, "i1")["state"] == "active"
    assert console.received(ANN) == ["(i1) You are on hold.", "(i1) You are now with Dana Diaz."]
    assert presence(console, "dana") == "busy"
    assert available(console, "billing") == 0


async def test_transfer_to_a_group_falls_back_after_the_wait_trf_5_grp_5(
    console: Console,
) -> None:
    """TRF-5 / GRP-5: after `routing.wait_for_agent` billing falls back to support (its
    `when_empty`), where chen, once ready, gets the call."""
    await call_from_ann(console)
    await console.run("@alice: transfer group:billing")
    console.mark()
    await console.run("tick 29s")
    assert console.received("@alice") == []
    await console.run("tick 2s")
    assert console.received("@alice") == [
        "(i1) Nobody in group:billing answered within 30s; trying group:support. "
        "Nobody in group:support is available now; waiting up to 30s."
    ]
    assert_one_owner(console, "i1", "alice")
    await console.run("@chen: ready")
    assert (
        "(i1) @alice transfers i1 voice with Ann to you via group:support. "
        "`accept i1` or `decline i1` within 20s."
    ) in console.received("@chen")
    await console.run("@chen: accept")
    assert_one_owner(console, "i1", "chen")
    assert console.received(ANN) == ["(i1) You are now with Chen Li."]


async def test_transfer_to_a_group_ends_in_its_voicemail_trf_5_grp_5(console: Console) -> None:
    """TRF-5 / GRP-5: nobody in billing nor, after the fallback, in support: the call goes to the
    support mailbox (support's `when_empty: voicemail`)."""
    await call_from_ann(console)
    await console.run("@alice: transfer group:billing\ntick 31s")
    console.mark()
    await console.run("tick 31s")
    assert console.received(ANN) == [
        "(i1) Nobody is free to take this right now, so your message was left for Support; "
        "we will get back to you."
    ]
    assert console.received("@alice") == [
        "New message #3 (voicemail): New voicemail in support from Ann (1m); "
        "support: 1 new, 0 old. `voicemail support` to listen.",
        "(i1) i1 went to the support voicemail.",
    ]
    assert stored(console, "i1")["state"] == "wrapup"
    assert parties(console, "i1") == {"@alice": ("owner", False), ANN: ("customer", False)}
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 1, "old": 0}


# --- TRF-6: unavailable member ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "reason", "iid"),
    [
        ("@bob: ready\n@bob: notready lunch", "@bob is not ready (lunch)", "i1"),
        ("", "@bob is logged off", "i1"),
        ("@bob: ready\nsim call Ben @bob\n@bob: accept", "@bob is busy", "i2"),
    ],
    ids=["not-ready", "logged-off", "busy"],
)
async def test_voice_transfer_to_an_unavailable_member_goes_to_voicemail_trf_6(
    console: Console, setup: str, reason: str, iid: str
) -> None:
    """TRF-6: a voice transfer to a not-ready, logged-off or busy member goes to their mailbox."""
    await console.run(setup)
    await console.run(f"@alice: ready\nsim call Ann @alice\n@alice: accept {iid}")
    assert_one_owner(console, iid, "alice")
    console.mark()
    await console.run("@alice: transfer @bob")
    assert sorted(console.received("@alice")) == sorted(
        [f"{reason}; {iid} went to @bob's voicemail.", f"({iid}) {iid} went to the bob voicemail."]
    )
    assert console.received(ANN) == [
        f"({iid}) Nobody is free to take this right now, so your message was left for Bob Baker; "
        "we will get back to you."
    ]
    assert snapshot(console.core.store)["mailboxes"]["bob"] == {"new": 1, "old": 0}
    assert stored(console, iid)["state"] == "wrapup"
    assert parties(console, iid) == {"@alice": ("owner", False), ANN: ("customer", False)}
    assert not any(iid in line for line in console.received("@bob"))


async def test_voice_transfer_without_voicemail_is_refused_trf_6(tmp_path: Path) -> None:
    """TRF-6: with `transfer.to_voicemail_when_unavailable: false` it is refused, nothing moves."""
    async with edited_console(
        tmp_path, "to_voicemail_when_unavailable: true", "to_voicemail_when_unavailable: false"
    ) as console:
        await call_from_ann(console)
        before = snapshot(console.core.store)
        await console.run("@alice: transfer @bob")
        refusal = console.last("@alice")
        assert refusal.startswith("@bob is logged off, so i1 stays with you.")
        assert REF.search(refusal)
        assert snapshot(console.core.store) == before


async def test_chat_transfer_to_an_unavailable_member_fails_by_default_trf_6(
    console: Console,
) -> None:
    """TRF-6: `transfer.chat_when_unavailable: fail`: refused with what to do; nothing changes."""
    await chat_with_ann(console)
    await console.run("@bob: ready\n@bob: notready lunch")
    before = snapshot(console.core.store)
    console.mark()
    await console.run("@alice: transfer @bob")
    refusal = console.last("@alice")
    assert refusal.startswith(
        "@bob is not ready (lunch), so i1 stays with you. Try `im @bob` or another target."
    )
    assert REF.search(refusal)
    assert snapshot(console.core.store) == before
    assert console.received("@bob") == []
    assert console.received(ANN) == []


async def test_chat_transfer_queue_waits_for_the_member_trf_6(tmp_path: Path) -> None:
    """TRF-6: `chat_when_unavailable: queue`: the chat waits for bob and is offered when he is
    ready; alice owns it meanwhile."""
    async with edited_console(
        tmp_path, "chat_when_unavailable: fail", "chat_when_unavailable: queue"
    ) as console:
        await chat_with_ann(console)
        console.mark()
        await console.run("@alice: transfer @bob")
        assert console.received("@alice") == [
            "Transferring i1: @bob is not available now; waiting up to 30s."
        ]
        assert_one_owner(console, "i1", "alice")
        await console.run("tick 10s\n@bob: ready")
        assert (
            "(i1) @alice transfers i1 chat with Ann to you: “hello I need help”. "
            "`accept i1` or `decline i1` within 20s."
        ) in console.received("@bob")
        await console.run("@bob: accept")
        assert_one_owner(console, "i1", "bob")
        assert console.received(ANN) == ["(i1) You are now with Bob Baker."]


async def test_chat_transfer_queue_comes_back_after_the_wait_trf_6_trf_4(tmp_path: Path) -> None:
    """TRF-6 / TRF-4: queued for bob, who never gets ready: after the wait it comes back."""
    async with edited_console(
        tmp_path, "chat_when_unavailable: fail", "chat_when_unavailable: queue"
    ) as console:
        await chat_with_ann(console)
        await console.run("@alice: transfer @bob")
        console.mark()
        await console.run("tick 31s")
        assert console.received("@alice") == [
            "(i1) @bob did not become available within 30s. i1 is back with you; keep it, "
            "or transfer it elsewhere."
        ]
        assert not ringing(console, "i1")
        assert_one_owner(console, "i1", "alice")
        await console.run("@bob: ready")
        assert console.received("@bob") == ["You are ready."]


async def test_chat_transfer_message_leaves_a_message_trf_6(tmp_path: Path) -> None:
    """TRF-6: `chat_when_unavailable: message`: Ann's chat is left in bob's mailbox."""
    async with edited_console(
        tmp_path, "chat_when_unavailable: fail", "chat_when_unavailable: message"
    ) as console:
        await chat_with_ann(console)
        console.mark()
        await console.run("@alice: transfer @bob")
        assert console.received(ANN) == [
            "(i1) Nobody is free to take this right now, so your message was left for Bob Baker; "
            "we will get back to you."
        ]
        mailboxes = snapshot(console.core.store)["mailboxes"]
        assert mailboxes["bob"] == {"new": 1, "old": 0}
        assert mailboxes["alice"] == {"new": 0, "old": 0}
        assert stored(console, "i1")["state"] == "wrapup"
        assert parties(console, "i1") == {"@alice": ("owner", False), ANN: ("customer", False)}


# --- GRP-5: --explain is a dry run --------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "target", "explained"),
    [
        (
            "",
            "group:billing",
            "group:billing: nobody ready now; it would wait up to 30s, then go to group:support.",
        ),
        (
            "@dana: ready",
            "group:billing",
            "group:billing: 1 ready now; it would ring @dana (longest idle).",
        ),
        (
            "",
            "group:support",
            "group:support: nobody ready now; it would wait up to 30s, then go to its voicemail.",
        ),
        (
            "@bob: ready\n@bob: notready lunch",
            "@bob",
            "@bob is not ready (lunch): the call would go to their voicemail.",
        ),
        ("@bob: ready", "@bob", "@bob is ready: it would ring @bob."),
    ],
    ids=["billing-empty", "billing-dana", "support-empty", "bob-not-ready", "bob-ready"],
)
async def test_transfer_explain_says_who_and_changes_nothing_grp_5(
    console: Console, setup: str, target: str, explained: str
) -> None:
    """GRP-5: `transfer TARGET --explain` says who would get the call and why; the stored state,
    the event log and everyone's messages stay as they were."""
    await console.run(setup)
    await call_from_ann(console)
    before = snapshot(console.core.store)
    logged = len(console.core.store.events(subject="i1"))
    console.mark()
    await console.run(f"@alice: transfer {target} --explain")
    assert console.received("@alice") == [explained]
    assert snapshot(console.core.store) == before
    assert len(console.core.store.events(subject="i1")) == logged
    for other in ("@bob", "@dana", "@eli", ANN):
        assert console.received(other) == []
    assert not ringing(console, "i1")
