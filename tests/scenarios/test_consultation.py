"""Consultations through the console: private to members, hold/swap, warm handovers (CON-1..11)."""

from __future__ import annotations

import re

import pytest

from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import (
    assert_never_received,
    call_from_ann,
    chat_with_ann,
    live,
    mode_of,
    parties,
    presence,
    ringing,
    stored,
)

REF = re.compile(r"\(ref [0-9a-f]{6}\)$")
ANN = "customer:Ann"


# --- helpers ------------------------------------------------------------------------------


# --- CON-1: consult a member, a group, a skill; voice, chat, im ---------------------------


async def test_consult_a_member_about_a_chat_con_1_con_3(console: Console) -> None:
    """CON-1 / CON-3: `consult @bob` on a chat is a chat consultation; bob sees case, contact and
    the chat transcript read-only; the chat itself is not held."""
    await chat_with_ann(console, "bob")
    console.mark()
    await console.run("@alice: consult @bob")
    assert console.received("@alice") == ["Consultation i2 (chat) about i1: Offered to @bob."]
    assert console.received("@bob") == [
        "(i2) @alice asks you to consult (chat) on i1: “hello I need help”. "
        "`accept i2` or `decline i2` within 30s."
    ]
    await console.run("@bob: accept i2")
    assert console.last("@bob") == "\n".join(
        [
            "You joined i2 chat consultation about i1 (read-only view of i1 chat with Ann).",
            "Contact: Ann",
            "first message: hello I need help",
            "Transcript so far:",
            "  Ann: hello I need help",
            "  Ann: order 42 is late",
            "  @alice: sorry Ann, checking order 42",
        ]
    )
    assert "(i2) @bob accepted i2 chat consultation about i1." in console.received("@alice")
    assert console.received(ANN) == []
    cx = stored(console, "i2")
    assert (cx["kind"], cx["state"], cx["parent"], cx["owner"]) == (
        "consultation",
        "active",
        "i1",
        "alice",
    )
    assert parties(console, "i2") == {"@alice": ("owner", True), "@bob": ("consultant", True)}
    assert stored(console, "i1")["state"] == "active"
    # read-only: bob is no party of the chat and cannot write in it
    assert "@bob" not in parties(console, "i1")
    await console.run("@bob: say i1 I can fix it")
    assert console.last("@bob").startswith("You have no live interaction i1.")
    await console.run("@alice: say SECRET-m01 is 42 lost?\n@bob: say SECRET-m02 yes")
    assert console.received("@bob")[-1] == "(i2) @alice: SECRET-m01 is 42 lost?"
    assert console.received("@alice")[-1] == "(i2) @bob: SECRET-m02 yes"
    assert console.received(ANN) == []
    assert_never_received(console, ANN, "SECRET", "fix it")


async def test_consult_a_group_rings_one_available_member_con_1_grp_3(console: Console) -> None:
    """CON-1 / GRP-3: a consultation with group:support rings one available member only
    (the longest idle), and the customer is put on hold and told."""
    await console.run("@alice: ready\n@bob: ready\ntick 5s\n@chen: ready")
    await console.run("sim call Ann @alice\n@alice: accept")
    console.mark()
    await console.run("@alice: consult group:support")
    assert console.received("@alice") == [
        "Consultation i2 (voice) about i1: group:support: offered to @bob. Ann is on hold."
    ]
    assert console.received("@bob") == [
        "(i2) @alice asks you to consult (voice) on i1 via group:support. "
        "`accept i2` or `decline i2` within 30s."
    ]
    assert console.received("@chen") == []
    assert console.received(ANN) == ["(i1) You are on hold."]
    await console.run("@bob: accept")
    assert parties(console, "i2") == {"@alice": ("owner", True), "@bob": ("consultant", True)}
    assert presence(console, "bob") == "busy"
    assert presence(console, "chen") == "ready"
    groups = {g["id"]: g["available"] for g in snapshot(console.core.store)["groups"]}
    assert groups["support"] == 1  # only chen: alice and bob are on calls
    await console.run("@bob: say SECRET-g01 what is it?")
    assert console.received("@alice")[-1] == "(i2) @bob: SECRET-g01 what is it?"
    assert_never_received(console, ANN, "SECRET")


async def test_consult_a_skill_reaches_a_skilled_member_con_1(console: Console) -> None:
    """CON-1: `consult skill:spanish` reaches eli (bob is not ready)."""
    await chat_with_ann(console, "eli")
    console.mark()
    await console.run("@alice: consult skill:spanish\n@eli: accept")
    assert console.received("@alice")[0] == (
        "Consultation i2 (chat) about i1: skill:spanish: offered to @eli."
    )
    assert parties(console, "i2") == {"@alice": ("owner", True), "@eli": ("consultant", True)}
    assert console.received("@bob") == []
    assert console.received(ANN) == []


async def test_voice_consult_through_a_skill_skips_members_without_a_phone_con_1(
    console: Console,
) -> None:
    """CON-1 / CON-11: a voice consultation via skill:spanish never rings eli, who has no voice
    endpoint; it waits for bob, who gets it once ready."""
    await call_from_ann(console, "eli")
    console.mark()
    await console.run("@alice: consult skill:spanish")
    assert console.received("@alice") == [
        "Consultation i2 (voice) about i1: nobody in skill:spanish is available now; "
        "waiting up to 30s. Ann is on hold."
    ]
    assert console.received("@eli") == []
    await console.run("@bob: ready\n@bob: accept i2")
    assert parties(console, "i2") == {"@alice": ("owner", True), "@bob": ("consultant", True)}
    assert console.received("@eli") == []


@pytest.mark.parametrize(
    ("mode", "parent_state", "customer"),
    [
        ("voice", "held", ["(i1) You are on hold."]),
        ("chat", "active", []),
        ("im", "active", []),
    ],
)
async def test_consultation_types_on_a_call_con_1_con_7(
    console: Console, mode: str, parent_state: str, customer: list[str]
) -> None:
    """CON-1 / CON-7: `consult @bob voice|chat|im` on a call; only a voice one holds the caller."""
    await call_from_ann(console, "bob")
    console.mark()
    await console.run(f"@alice: consult @bob {mode}\n@bob: accept")
    held = " Ann is on hold." if mode == "voice" else ""
    assert console.received("@alice")[0] == (
        f"Consultation i2 ({mode}) about i1: Offered to @bob.{held}"
    )
    assert f"You joined i2 {mode} consultation about i1" in console.received("@bob")[1]
    assert mode_of(console, "i2") == mode
    assert stored(console, "i1")["state"] == parent_state
    assert console.received(ANN) == customer
    await console.run("@alice: end i2")
    assert stored(console, "i1")["state"] == "active"  # never left on hold after the consult


# --- CON-2: the customer never takes part -------------------------------------------------


async def test_consultation_text_never_reaches_the_customer_con_2(console: Console) -> None:
    """CON-2: in voice and IM consultations on a call, Ann is never a party and sees nothing."""
    await call_from_ann(console, "bob", "chen")
    await console.run(
        """
        @alice: consult @bob
        @bob: accept
        @alice: say SECRET-7f3 is this caller known?
        @bob: say SECRET-a41 yes, twice this week
        @alice: consult @chen im
        @chen: accept
        @alice: say i3 SECRET-c09 refund or not?
        @chen: say SECRET-d22 refund
        sim say Ann hello? anyone?
        """
    )
    for iid in ("i2", "i3"):
        assert ANN not in parties(console, iid)
    assert_never_received(console, ANN, "SECRET")
    assert "(i2) @alice: SECRET-7f3 is this caller known?" in console.received("@bob")
    assert "(i3) @chen: SECRET-d22 refund" in console.received("@alice")
    assert not any("SECRET-c09" in line for line in console.received("@bob"))
    assert not any("SECRET-7f3" in line for line in console.received("@chen"))
    # the consultation content is no part of the call's own record either
    await console.run("@alice: history i1")
    assert "SECRET" not in console.last("@alice")


async def test_warm_transfer_briefing_leaves_consultation_out_con_2_trf_3(
    console: Console,
) -> None:
    """CON-2 / TRF-3: after a warm transfer the new owner's transcript of the chat has every line
    the customer saw and none of the consultation; Ann never sees it either."""
    await chat_with_ann(console, "bob")
    await console.run(
        """
        @alice: consult @bob
        @bob: accept
        @alice: say SECRET-7f3 VIP, be gentle
        @bob: say SECRET-b55 ok
        """
    )
    console.mark()
    await console.run("@alice: transfer")
    briefing = "\n".join(console.received("@bob"))
    assert briefing == "\n".join(
        [
            "(i1) You now own i1 chat with Ann (from @alice).",
            "(i1) Contact: Ann",
            "(i1) first message: hello I need help",
            "(i1) Transcript so far:",
            "(i1)   Ann: hello I need help",
            "(i1)   Ann: order 42 is late",
            "(i1)   @alice: sorry Ann, checking order 42",
        ]
    )
    assert console.received(ANN) == ["(i1) You are now with Bob Baker."]
    await console.run("@bob: history i1\n@sam: history i1")
    assert "SECRET" not in console.last("@bob")
    assert "SECRET" not in console.last("@sam")
    assert "text=order 42 is late" in console.last("@sam")
    await console.run("@bob: say hi Ann, Bob here")
    assert console.received(ANN)[-1] == "(i1) Bob Baker: hi Ann, Bob here"
    assert_never_received(console, ANN, "SECRET")


# --- CON-4 / CON-5 / CON-6: ending and marking done --------------------------------------


@pytest.mark.parametrize(("ender", "other"), [("alice", "bob"), ("bob", "alice")])
async def test_either_party_ends_the_consultation_and_the_chat_goes_on_con_4(
    console: Console, ender: str, other: str
) -> None:
    """CON-4: initiator or consultant `end`s the consultation; the customer chat continues."""
    await chat_with_ann(console, "bob")
    await console.run(
        "@alice: consult @bob\n@bob: accept\n@alice: say SECRET-e01\n@bob: say SECRET-e02"
    )
    console.mark()
    await console.run(f"@{ender}: end i2")
    assert console.received(f"@{ender}") == ["You ended i2. Mark it `done i2` to close it."]
    assert console.received(f"@{other}") == [
        f"(i2) @{ender} ended i2 chat consultation about i1. Mark it `done i2`."
    ]
    assert stored(console, "i2")["state"] == "ended"
    assert parties(console, "i2") == {"@alice": ("owner", False), "@bob": ("consultant", False)}
    assert stored(console, "i1")["state"] == "active"
    assert parties(console, "i1") == {"@alice": ("owner", True), ANN: ("customer", True)}
    await console.run("sim say Ann still there?\n@alice: say i1 yes, fixed")
    assert console.received(ANN) == ["(i1) Alice Anders: yes, fixed"]
    assert console.received("@alice")[-1] == "(i1) Ann: still there?"
    assert not any("still there" in line for line in console.received("@bob"))
    await console.run(f"@{other}: say i2 SECRET-e03 one more thing")
    assert console.last(f"@{other}").startswith("You are no longer connected to i2;")
    assert_never_received(console, ANN, "SECRET")


async def test_consultation_outlives_the_customer_hanging_up_con_5(console: Console) -> None:
    """CON-5: Ann hangs up during a voice consultation; it stays live and usable."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob\n@bob: accept")
    console.mark()
    await console.run("sim hangup Ann")
    assert console.received("@alice") == ["(i1) Ann left i1."]
    assert stored(console, "i1")["state"] == "wrapup"
    assert stored(console, "i2")["state"] == "active"
    assert parties(console, "i2") == {"@alice": ("owner", True), "@bob": ("consultant", True)}
    await console.run("@alice: say SECRET-7f3 she hung up\n@bob: say noted")
    assert console.received("@bob") == [  # CON-5: the consultant is told
        "(i2) Ann hung up; i1 has ended. i2 goes on until it is ended.",
        "(i2) @alice: SECRET-7f3 she hung up",
    ]
    assert "(i2) @bob: noted" in console.received("@alice")
    await console.run("@alice: transfer")
    assert console.last("@alice").startswith("i1 has ended; there is nothing to hand over.")
    await console.run("@bob: end\n@alice: done i2\n@bob: done i2\n@alice: done i1")
    assert live(console) == []
    assert presence(console, "alice") == "ready"
    assert presence(console, "bob") == "ready"
    assert_never_received(console, ANN, "SECRET")


@pytest.mark.parametrize("mode", ["chat", "im"])
async def test_chat_consultation_closes_only_when_both_are_done_con_6(
    console: Console, mode: str
) -> None:
    """CON-6: `done` is refused while connected; after `end` the consultation stays `ended`
    until both parties mark it done."""
    await chat_with_ann(console, "bob")
    await console.run(f"@alice: consult @bob {mode}\n@bob: accept\n@bob: say SECRET-d01")
    console.mark()
    await console.run("@bob: done i2")
    assert console.last("@bob").startswith("You are still connected to i2; `end` or `leave` it")
    assert REF.search(console.last("@bob"))
    assert stored(console, "i2")["state"] == "active"
    await console.run("@alice: end i2\n@alice: done i2")
    assert console.last("@alice") == "i2 is done."
    assert stored(console, "i2")["state"] == "ended"
    assert "i2" in live(console)
    await console.run("@alice: done i2")
    assert console.last("@alice").startswith("You already marked i2 done.")
    await console.run("@bob: done i2")
    assert console.last("@bob") == "i2 is done. It is closed."
    assert stored(console, "i2")["state"] == "closed"
    assert "i2" not in live(console)
    assert stored(console, "i1")["state"] == "active"
    assert console.received(ANN) == []
    assert_never_received(console, ANN, "SECRET")


# --- CON-7: hold, swap, retrieve -----------------------------------------------------------


async def test_voice_consult_holds_the_call_and_swap_alternates_con_7(console: Console) -> None:
    """CON-7: a voice consultation holds the call (Ann told); `swap`/`retrieve` flip the two;
    ending the consultation takes Ann off hold."""
    await call_from_ann(console, "bob")
    console.mark()
    await console.run("@alice: consult @bob\n@bob: accept")
    assert console.received(ANN) == ["(i1) You are on hold."]
    assert (stored(console, "i1")["state"], stored(console, "i2")["state"]) == ("held", "active")
    flips = [
        ("swap", "You are on i1 voice with Ann; i2 is on hold.", "active", "held", "off"),
        (
            "retrieve",
            "You are on i2 voice consultation about i1; i1 is on hold.",
            "held",
            "active",
            "on",
        ),
        ("swap", "You are on i1 voice with Ann; i2 is on hold.", "active", "held", "off"),
    ]
    for command, reply, parent, consultation, hold in flips:
        console.mark()
        await console.run(f"@alice: {command}")
        assert console.received("@alice") == [reply]
        assert (stored(console, "i1")["state"], stored(console, "i2")["state"]) == (
            parent,
            consultation,
        )
        assert console.received(ANN) == [f"(i1) You are {hold} hold."]
    await console.run("@alice: say i1 thanks for waiting")
    assert console.received(ANN)[-1] == "(i1) Alice Anders: thanks for waiting"
    await console.run("@alice: retrieve\n@alice: say SECRET-7f3 what now?")
    assert console.received("@bob")[-1] == "(i2) @alice: SECRET-7f3 what now?"
    console.mark()
    await console.run("@bob: end")
    assert console.received(ANN) == ["(i1) You are off hold."]
    assert "(i1) i1 is off hold." in console.received("@alice")
    assert stored(console, "i1")["state"] == "active"
    assert stored(console, "i2")["state"] == "ended"
    await console.run("@alice: swap")
    assert console.last("@alice").startswith("You have no voice consultation to swap with.")
    assert_never_received(console, ANN, "SECRET")


async def test_a_new_voice_consult_once_the_last_one_ended_con_4_con_7(console: Console) -> None:
    """CON-4 / CON-7: once bob ended the voice consultation (not yet marked done), alice may
    consult chen by voice: Ann goes on hold again."""
    await call_from_ann(console, "bob", "chen")
    await console.run("@alice: consult @bob\n@bob: accept\n@bob: end")
    assert stored(console, "i2")["state"] == "ended"
    console.mark()
    await console.run("@alice: consult @chen")
    assert console.received("@alice") == [
        "Consultation i3 (voice) about i1: Offered to @chen. Ann is on hold."
    ]
    assert console.received(ANN) == ["(i1) You are on hold."]
    await console.run("@chen: accept\n@alice: end i3")
    assert stored(console, "i1")["state"] == "active"
    assert console.received(ANN) == ["(i1) You are on hold.", "(i1) You are off hold."]


# --- CON-8: several consultations at once -------------------------------------------------


async def test_two_consultations_at_once_by_short_id_con_8(console: Console) -> None:
    """CON-8: a voice consultation with bob and an IM one with chen run together; `say iN`
    reaches only that consultation's consultant."""
    await call_from_ann(console, "bob", "chen")
    await console.run("@alice: consult @bob\n@bob: accept\n@alice: consult @chen im\n@chen: accept")
    await console.run("@alice: list")
    assert console.last("@alice") == "\n".join(
        [
            "Your interactions:",
            "  i1 voice with Ann — held, you own it",
            "  i2 voice consultation about i1 with @bob — active, you own it",
            "  i3 im consultation about i1 with @chen — active, you own it (current)",
        ]
    )
    console.mark()
    await console.run(
        """
        @alice: say i2 SECRET-b01 for bob
        @alice: say i3 SECRET-c01 for chen
        @bob: say SECRET-b02 bob answers
        @chen: say SECRET-c02 chen answers
        """
    )
    assert console.received("@bob") == ["(i2) @alice: SECRET-b01 for bob"]
    assert console.received("@chen") == ["(i3) @alice: SECRET-c01 for chen"]
    assert console.received("@alice") == [
        "(i2) @bob: SECRET-b02 bob answers",
        "(i3) @chen: SECRET-c02 chen answers",
    ]
    assert console.received(ANN) == []
    await console.run("@alice: end i2")
    assert stored(console, "i3")["state"] == "active"
    assert stored(console, "i1")["state"] == "active"
    assert_never_received(console, ANN, "SECRET")


# --- CON-9: warm transfer and conference ------------------------------------------------


async def test_transfer_inside_a_voice_consultation_is_a_warm_transfer_con_9_trf_2(
    console: Console,
) -> None:
    """CON-9 / TRF-2: `transfer` inside the consultation hands the call to bob at once;
    alice is released to after-call work; the consultation closes."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob\n@bob: accept\n@alice: say SECRET-7f3 take it")
    console.mark()
    await console.run("@alice: transfer")
    assert console.received("@alice") == [
        "Warm transfer done: @bob owns i1. Mark it `done i1`.",
        "(i1) You are in after-call work for up to 2m, then ready again; "
        "type `ready` to leave it sooner.",
    ]
    assert console.received("@bob")[0] == "(i1) You now own i1 voice with Ann (from @alice)."
    assert console.received(ANN) == ["(i1) You are now with Bob Baker."]
    call = stored(console, "i1")
    assert (call["state"], call["owner"]) == ("active", "bob")
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        ANN: ("customer", True),
    }
    assert stored(console, "i2")["state"] == "closed"
    assert presence(console, "alice") == "after_call_work"
    assert presence(console, "bob") == "busy"
    await console.run("@bob: say hello Ann")
    assert console.received(ANN)[-1] == "(i1) Bob Baker: hello Ann"
    assert_never_received(console, ANN, "SECRET")


async def test_conference_inside_a_voice_consultation_is_a_warm_conference_con_9(
    console: Console,
) -> None:
    """CON-9: `conference` inside the consultation adds bob to the call; Ann comes off hold."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob\n@bob: accept\n@bob: say SECRET-q1 add me")
    console.mark()
    await console.run("@alice: conference")
    assert "Conference on i1 with @bob." in console.received("@alice")
    assert "(i1) @bob joined i1." in console.received("@alice")
    assert console.received("@bob")[0] == "(i1) You joined the conference on i1 voice with Ann."
    assert console.received(ANN) == ["(i1) You are off hold."]
    assert stored(console, "i1")["state"] == "active"
    assert stored(console, "i1")["owner"] == "alice"
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@bob": ("member", True),
        ANN: ("customer", True),
    }
    assert stored(console, "i2")["state"] == "closed"
    await console.run("sim say Ann hello both")
    assert console.received("@alice")[-1] == "(i1) Ann: hello both"
    assert console.received("@bob")[-1] == "(i1) Ann: hello both"
    assert_never_received(console, ANN, "SECRET")


async def test_transfer_now_from_inside_a_consultation_is_instant_con_9(console: Console) -> None:
    """CON-9: `transfer now @chen` typed inside a chat consultation with bob transfers the chat to
    chen with no consultation; bob's consultation goes on."""
    await chat_with_ann(console, "bob", "chen")
    await console.run("@alice: consult @bob\n@bob: accept")
    console.mark()
    await console.run("@alice: transfer now @chen")
    assert console.received("@alice") == ["Transferring i1: Offered to @chen."]
    assert console.received("@chen")[0].startswith("(i1) @alice transfers i1 chat with Ann to you")
    assert stored(console, "i1")["owner"] == "alice"  # until chen accepts
    await console.run("@chen: accept i1")
    assert stored(console, "i1")["owner"] == "chen"
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        ANN: ("customer", True),
        "@chen": ("owner", True),
    }
    assert "@bob" not in parties(console, "i1")
    assert stored(console, "i2")["state"] == "active"
    assert console.received(ANN) == ["(i1) You are now with Chen Li."]
    await console.run("@alice: say i2 SECRET-n01 chen has it now\n@bob: say SECRET-n02 fine")
    assert console.received("@bob")[-1] == "(i2) @alice: SECRET-n01 chen has it now"
    assert not any("SECRET" in line for line in console.received("@chen"))
    assert_never_received(console, ANN, "SECRET")


# --- CON-10: declined, timed out, withdrawn ----------------------------------------------


async def test_declined_consultation_is_reported_and_the_call_resumed_con_10(
    console: Console,
) -> None:
    """CON-10: bob declines; alice is told, Ann comes off hold, nobody stays in the consult."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob")
    console.mark()
    await console.run("@bob: decline")
    assert console.received("@bob") == ["You declined i2."]
    assert console.received("@alice") == [
        "(i2) @bob declined. i2 voice consultation about i1 did not start.",
        "(i1) i1 is off hold.",
    ]
    assert console.received(ANN) == ["(i1) You are off hold."]
    assert stored(console, "i1")["state"] == "active"
    assert stored(console, "i2")["state"] == "closed"
    assert parties(console, "i2") == {"@alice": ("owner", False)}
    assert presence(console, "bob") == "ready"


async def test_consultation_not_accepted_in_30s_times_out_con_10(console: Console) -> None:
    """CON-10: after `consult.accept_timeout` (30 s) the offer is withdrawn and reported."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob")
    console.mark()
    await console.run("tick 29s")
    assert console.received("@alice") == []
    assert stored(console, "i2")["state"] == "offered"
    await console.run("tick 2s")
    assert console.received("@bob") == ["(i2) The offer of i2 timed out."]
    assert console.received("@alice") == [
        "(i2) @bob did not answer. i2 voice consultation about i1 timed out.",
        "(i1) i1 is off hold.",
    ]
    assert console.received(ANN) == ["(i1) You are off hold."]
    assert stored(console, "i1")["state"] == "active"
    assert stored(console, "i2")["state"] == "closed"
    assert parties(console, "i2") == {"@alice": ("owner", False)}
    await console.run("@bob: accept i2")
    assert console.last("@bob").startswith("There is no live interaction i2.")


async def test_ending_a_ringing_consultation_withdraws_the_offer_con_4_con_10(
    console: Console,
) -> None:
    """CON-4 / CON-10: alice ends a consultation bob has not accepted: bob is told, his offer is
    gone (he can be consulted again at once), and no timeout fires later."""
    await chat_with_ann(console, "bob")
    await console.run("@alice: consult @bob")
    console.mark()
    await console.run("@alice: end i2")
    assert console.received("@bob") == ["(i2) @alice withdrew i2 chat consultation about i1."]
    assert not ringing(console, "i2")
    await console.run("@bob: accept i2")
    assert REF.search(console.last("@bob"))  # refused: nothing is offered any more
    assert "@bob" not in parties(console, "i2")
    assert stored(console, "i2")["state"] == "ended"
    await console.run("@alice: done i2\n@alice: consult @bob")
    assert console.last("@alice") == "Consultation i3 (chat) about i1: Offered to @bob."
    console.mark()
    await console.run("tick 31s")
    assert console.received("@alice") == [
        "(i3) @bob did not answer. i3 chat consultation about i1 timed out."
    ]
    assert "i2" not in live(console)


# --- CON-11: escalate to voice ------------------------------------------------------------


async def test_consult_voice_escalates_a_chat_consultation_con_11(console: Console) -> None:
    """CON-11: `consult voice` inside a chat consultation on a call turns it into a voice one
    (both have phones): bob is told, Ann goes on hold, ending it takes her off hold."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob chat\n@bob: accept")
    assert stored(console, "i1")["state"] == "active"
    console.mark()
    await console.run("@alice: consult voice")
    assert console.received("@alice") == ["i2 is now a voice consultation."]
    assert console.received("@bob") == ["(i2) @alice turned i2 into a voice call."]
    assert console.received(ANN) == ["(i1) You are on hold."]
    assert mode_of(console, "i2") == "voice"
    assert stored(console, "i1")["state"] == "held"
    await console.run("@alice: say SECRET-v01 can you hear me?")
    assert console.received("@bob")[-1] == "(i2) @alice: SECRET-v01 can you hear me?"
    await console.run("@alice: swap")
    assert stored(console, "i1")["state"] == "active"
    assert stored(console, "i2")["state"] == "held"
    await console.run("@alice: swap\n@bob: end")
    assert stored(console, "i1")["state"] == "active"
    assert console.received(ANN)[-1] == "(i1) You are off hold."
    assert_never_received(console, ANN, "SECRET")


async def test_an_escalated_consultation_makes_the_consultant_busy_con_11_dir_2(
    console: Console,
) -> None:
    """CON-11, DIR-2: a chat consultation leaves bob available for chats; once it is a voice
    one he is busy (one voice leg each), and free again when it ends."""
    await call_from_ann(console, "bob")
    await console.run("@alice: consult @bob chat\n@bob: accept")
    presence = console.core.directory.presence
    assert not presence("bob").busy
    await console.run("@alice: consult voice")
    assert presence("bob").busy
    assert console.core.engine.is_busy("bob") == console.core.engine.busy_by_walk("bob")
    await console.run("@bob: end")
    assert not presence("bob").busy


async def test_consult_voice_is_refused_naming_who_has_no_phone_con_11(console: Console) -> None:
    """CON-11: eli has no voice endpoint: `consult voice` is refused by either side, naming eli,
    and the consultation stays chat."""
    await chat_with_ann(console, "eli")
    await console.run("@alice: consult @eli\n@eli: accept")
    for who in ("alice", "eli"):
        await console.run(f"@{who}: consult voice")
        refusal = console.last(f"@{who}")
        assert refusal.startswith("@eli has no voice endpoint; it stays chat.")
        assert REF.search(refusal)
    assert mode_of(console, "i2") == "chat"
    assert stored(console, "i2")["state"] == "active"
    await console.run("@alice: consult @eli voice")
    assert console.last("@alice").startswith("@eli has no voice endpoint; consult by `chat`")
    assert [i["id"] for i in snapshot(console.core.store)["interactions"]] == ["i1", "i2"]
