"""Conferences on calls and chats, through the console (CNF-1..8)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import (
    available,
    edited_policy,
    live,
    mentioning,
    muted,
    owners,
    parties,
    presence,
    stored,
)

REF = re.compile(r"\(ref [0-9a-f]{6}\)")


async def call_conference(console: Console, kind: str = "voice") -> None:
    """Ann's ``kind`` with alice, conferenced with bob: i1 has alice (owner), bob and Ann."""
    start = "sim call Ann @alice" if kind == "voice" else "sim chat Ann @alice hello"
    await console.run(
        f"""
        @alice: ready
        @bob: ready
        {start}
        @alice: accept
        @alice: conference @bob
        @bob: accept
        """
    )
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@bob": ("member", True),
        "customer:Ann": ("customer", True),
    }


@pytest.fixture
async def announcing(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `conference.announce_to_customer: true`."""
    rules = edited_policy(tmp_path, "announce_to_customer: false", "announce_to_customer: true")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


@pytest.fixture
async def supervisors_remove(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `conference.remove_party_roles: [supervisor]`."""
    rules = edited_policy(
        tmp_path, "remove_party_roles: [agent, supervisor]", "remove_party_roles: [supervisor]"
    )
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


# --- CNF-1: conference TARGET starts when the added party accepts ----------------------------


@pytest.mark.parametrize(
    ("kind", "target", "ready", "joins"),
    [
        ("voice", "@bob", "bob", "bob"),
        ("chat", "@bob", "bob", "bob"),
        ("voice", "group:support", "chen", "chen"),
        ("chat", "group:support", "chen", "chen"),
        ("voice", "rp:sales", "bob", "bob"),
        ("chat", "rp:sales", "chen", "chen"),
        ("voice", "skill:spanish", "bob", "bob"),
        ("chat", "skill:spanish", "eli", "eli"),
        ("chat", "queue:overflow", "dana", "dana"),
    ],
)
async def test_conference_starts_when_the_added_party_accepts_cnf_1(
    console: Console, kind: str, target: str, ready: str, joins: str
) -> None:
    """CNF-1: `conference TARGET` rings one member; they are a party only once they accept."""
    start = "sim call Ann @alice" if kind == "voice" else "sim chat Ann @alice hello"
    await console.run(f"@alice: ready\n@{ready}: ready\n{start}\n@alice: accept")
    console.mark()
    await console.run(f"@alice: conference {target}")
    via = "" if target.startswith("@") else f" via {target}"
    invitation = console.last(f"@{joins}")
    assert invitation.startswith(
        f"(i1) @alice invites you to a conference on i1 {kind} with Ann{via}"
    )
    assert "`accept i1` or `decline i1` within 20s." in invitation
    assert console.received("@alice")[-1].startswith("Conference on i1: ")
    assert f"@{joins}" in console.received("@alice")[-1]
    # Ringing is not joining: the conference has not started yet.
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "customer:Ann": ("customer", True),
    }
    assert stored(console, "i1")["state"] == "active"

    await console.run(f"@{joins}: accept")
    assert f"You joined the conference on i1 {kind} with Ann." in console.received(f"@{joins}")
    assert f"(i1) @{joins} joined i1." in console.received("@alice")
    assert console.received("customer:Ann") == []  # CNF-7 default: not announced
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        f"@{joins}": ("member", True),
        "customer:Ann": ("customer", True),
    }
    ix = stored(console, "i1")
    assert (ix["state"], ix["owner"]) == ("active", "alice")
    # A member on a call is busy; one chat of three is not.
    assert presence(console, joins) == ("busy" if kind == "voice" else "ready")


async def test_conference_declined_adds_nobody_cnf_1(console: Console) -> None:
    """CNF-1: a declined invitation adds nobody; the owner is told and keeps the call."""
    await console.run("@alice: ready\n@bob: ready\nsim call Ann @alice\n@alice: accept")
    console.mark()
    await console.run("@alice: conference @bob\n@bob: decline")
    assert console.received("@bob")[-1] == "You declined i1."
    assert console.received("@alice")[-1] == "(i1) @bob declined. Nobody was added to i1."
    assert console.received("customer:Ann") == []
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "customer:Ann": ("customer", True),
    }
    assert presence(console, "bob") == "ready"
    assert available(console, "support") == 1  # bob is free again, alice is on the call


async def test_conference_not_answered_adds_nobody_cnf_1(console: Console) -> None:
    """CNF-1: bob lets the invitation ring out; alice is told and keeps the call alone."""
    await console.run("@alice: ready\n@bob: ready\nsim call Ann @alice\n@alice: accept")
    await console.run("@alice: conference @bob")
    console.mark()
    await console.run("tick 20s")
    assert console.received("@bob") == ["(i1) The offer of i1 timed out."]
    assert console.received("@alice") == ["(i1) @bob did not answer. Nobody was added to i1."]
    assert console.received("customer:Ann") == []
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "customer:Ann": ("customer", True),
    }
    assert stored(console, "i1")["state"] == "active"


async def test_conference_to_an_empty_group_never_sends_the_customer_away_cnf_1(
    console: Console,
) -> None:
    """CNF-1 / GRP-3: nobody in support is free; the conference waits, then fails back.

    support's `when_empty: voicemail` is for work sent to the group: a conference only adds
    a party, so Ann stays on her call with alice and nothing lands in the support mailbox.
    """
    await console.run("@alice: ready\nsim call Ann @alice\n@alice: accept")
    console.mark()
    await console.run("@alice: conference group:support")
    assert console.received("@alice") == [
        "Conference on i1: nobody in group:support is available now; waiting up to 30s."
    ]
    await console.run("tick 30s")
    assert console.received("@alice")[-1] == (
        "(i1) Nobody in group:support became available within 30s. Nobody was added to i1."
    )
    assert console.received("customer:Ann") == []
    ix = stored(console, "i1")
    assert (ix["state"], ix["owner"]) == ("active", "alice")
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "customer:Ann": ("customer", True),
    }
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 0, "old": 0}


async def test_conference_explain_says_what_a_conference_would_do_cnf_1(console: Console) -> None:
    """CNF-1 / GRP-5: `conference TARGET --explain` describes the conference, not a transfer."""
    await console.run("@alice: ready\nsim call Ann @alice\n@alice: accept")
    before = snapshot(console.core.store)
    console.mark()
    await console.run(
        """
        @alice: conference group:support --explain
        @alice: conference @bob --explain
        @bob: ready
        @alice: conference @bob --explain
        """
    )
    assert console.received("@alice") == [
        "group:support: nobody ready now; it would wait up to 30s, then fail with a message.",
        "@bob is logged off: nobody would be added.",
        "@bob is ready: it would ring @bob.",
    ]
    assert console.received("@bob") == ["You are ready."]
    assert console.received("customer:Ann") == []
    assert snapshot(console.core.store)["interactions"] == before["interactions"]


async def test_conference_to_a_group_rings_a_member_who_becomes_ready_cnf_1(
    console: Console,
) -> None:
    """CNF-1 / GRP-3: while the conference waits, chen becomes ready and is rung at once."""
    await console.run("@alice: ready\nsim chat Ann @alice hi\n@alice: accept")
    await console.run("@alice: conference group:support\ntick 10s")
    console.mark()
    await console.run("@chen: ready\n@chen: accept")
    assert console.received("@chen")[1].startswith(
        "(i1) @alice invites you to a conference on i1 chat with Ann via group:support"
    )
    assert "(i1) @chen joined i1." in console.received("@alice")
    assert parties(console, "i1")["@chen"] == ("member", True)


async def test_conference_on_a_held_call_brings_the_caller_back_cnf_1(console: Console) -> None:
    """CNF-1: alice holds Ann, then conferences bob: on his accept all three are connected."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim call Ann @alice\n@alice: accept\n@alice: hold"
    )
    await console.run("@alice: conference @bob")
    assert stored(console, "i1")["state"] == "held"
    console.mark()
    await console.run("@bob: accept\n@bob: say HELLO-ANN-2a")
    assert console.received("customer:Ann") == [
        "(i1) You are off hold.",
        "(i1) Bob Baker: HELLO-ANN-2a",
    ]
    assert stored(console, "i1")["state"] == "active"


# --- CNF-2: everyone hears everyone, except a muted party ----------------------------------


@pytest.mark.parametrize("kind", ["voice", "chat"])
async def test_all_parties_hear_each_other_cnf_2(console: Console, kind: str) -> None:
    """CNF-2: the customer, the owner and the added member each hear the two others."""
    await call_conference(console, kind)
    console.mark()
    await console.run(
        """
        sim say Ann FROM-ANN-1a
        @alice: say FROM-ALICE-2b
        @bob: say FROM-BOB-3c
        """
    )
    assert console.received("@alice") == ["(i1) Ann: FROM-ANN-1a", "(i1) @bob: FROM-BOB-3c"]
    assert console.received("@bob") == ["(i1) Ann: FROM-ANN-1a", "(i1) @alice: FROM-ALICE-2b"]
    assert console.received("customer:Ann") == [
        "(i1) Alice Anders: FROM-ALICE-2b",
        "(i1) Bob Baker: FROM-BOB-3c",
    ]


async def test_a_muted_party_is_heard_by_nobody_until_unmuted_cnf_2(console: Console) -> None:
    """CNF-2: after `mute @bob` nobody hears bob (he still hears them); `unmute` restores it."""
    await call_conference(console)
    console.mark()
    await console.run("@alice: mute @bob")
    assert "@bob is muted." in console.received("@alice")
    assert console.received("@bob") == ["(i1) You are muted in i1."]
    assert console.received("customer:Ann") == []  # being muted is not news to the caller

    console.mark()
    await console.run("@bob: say MUTED-7d1\nsim say Ann STILL-HEARD-4e\n@alice: say OWNER-5f")
    assert console.received("@bob") == [
        "Nobody in i1 can hear you right now.",
        "(i1) Ann: STILL-HEARD-4e",
        "(i1) @alice: OWNER-5f",
    ]
    assert mentioning(console.received("@alice"), "MUTED-7d1") == []
    assert mentioning(console.received("customer:Ann"), "MUTED-7d1") == []
    assert console.received("customer:Ann") == ["(i1) Alice Anders: OWNER-5f"]

    console.mark()
    await console.run("@alice: unmute @bob\n@bob: say UNMUTED-8a2")
    assert "@bob is unmuted." in console.received("@alice")
    assert console.received("@alice")[-1] == "(i1) @bob: UNMUTED-8a2"
    assert console.received("@bob") == ["(i1) You are no longer muted in i1."]
    assert console.received("customer:Ann") == ["(i1) Bob Baker: UNMUTED-8a2"]
    assert muted(console, "i1") == set()


async def test_a_re_added_member_starts_unmuted_cnf_2(console: Console) -> None:
    """CNF-2: muted bob leaves; conferenced in again later, everyone hears him."""
    await call_conference(console)
    await console.run("@alice: mute @bob\n@bob: leave\n@alice: conference @bob\n@bob: accept")
    assert parties(console, "i1")["@bob"] == ("member", True)
    console.mark()
    await console.run("@bob: say BACK-AGAIN-3b")
    assert console.received("@bob") == []
    assert console.received("@alice") == ["(i1) @bob: BACK-AGAIN-3b"]
    assert console.received("customer:Ann") == ["(i1) Bob Baker: BACK-AGAIN-3b"]


async def test_only_the_owner_or_a_supervisor_mutes_cnf_2(console: Console) -> None:
    """CNF-2: an added member may not mute the owner; the refusal changes nothing."""
    await call_conference(console)
    console.mark()
    await console.run("@bob: mute @alice\n@alice: say STILL-LOUD-1b")
    refusal = console.received("@bob")[0]
    assert refusal.startswith("Only the owner @alice can mute parties of i1.")
    assert REF.search(refusal)
    assert console.received("customer:Ann") == ["(i1) Alice Anders: STILL-LOUD-1b"]
    assert muted(console, "i1") == set()


# --- CNF-3: an added party leaves; the customer interaction goes on -------------------------


@pytest.mark.parametrize("kind", ["voice", "chat"])
async def test_added_party_leaves_and_the_interaction_continues_cnf_3(
    console: Console, kind: str
) -> None:
    """CNF-3 / CNF-8: bob `leave`s his own leg; alice and Ann go on talking without him."""
    await call_conference(console, kind)
    console.mark()
    await console.run("@bob: leave")
    assert console.received("@bob") == [
        "You left i1. Mark it `done i1` when your notes are complete."
    ]
    assert console.received("@alice") == [
        "(i1) @bob left i1.",
        f"(i1) i1 is a two-party {kind} again.",
    ]
    assert console.received("customer:Ann") == []
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@bob": ("member", False),
        "customer:Ann": ("customer", True),
    }
    ix = stored(console, "i1")
    assert (ix["state"], ix["owner"]) == ("active", "alice")

    console.mark()
    await console.run("sim say Ann STILL-THERE-6c\n@alice: say YES-7d\n@bob: done i1")
    assert console.received("@alice") == ["(i1) Ann: STILL-THERE-6c"]
    assert console.received("customer:Ann") == ["(i1) Alice Anders: YES-7d"]
    assert console.received("@bob") == ["i1 is done."]
    assert stored(console, "i1")["state"] == "active"
    assert presence(console, "bob") == "ready"
    assert presence(console, "alice") == ("busy" if kind == "voice" else "ready")


# --- CNF-4: the initiator leaves; ownership passes on ---------------------------------------


@pytest.mark.parametrize("kind", ["voice", "chat"])
async def test_initiator_leaves_and_ownership_passes_to_the_remaining_member_cnf_4(
    console: Console, kind: str
) -> None:
    """CNF-4 / CNF-8: alice leaves her conference; bob owns it, told so; exactly one owner."""
    await call_conference(console, kind)
    console.mark()
    await console.run("@alice: leave")
    assert console.received("@alice") == [
        "You left i1. Mark it `done i1` when your notes are complete."
    ]
    assert console.received("@bob") == [
        "(i1) @alice left i1.",
        "(i1) @bob now owns i1.",
        f"(i1) i1 is a two-party {kind} again.",
    ]
    assert console.received("customer:Ann") == []
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        "customer:Ann": ("customer", True),
    }
    assert owners(console, "i1") == ["@bob"]
    ix = stored(console, "i1")
    assert (ix["state"], ix["owner"]) == ("active", "bob")

    console.mark()
    await console.run("sim say Ann FOR-BOB-2e\n@bob: say BOB-ANSWERS-3f")
    assert console.received("@bob") == ["(i1) Ann: FOR-BOB-2e"]
    assert console.received("@alice") == []
    assert console.received("customer:Ann") == ["(i1) Bob Baker: BOB-ANSWERS-3f"]


async def test_initiator_leaves_a_three_member_conference_cnf_4(console: Console) -> None:
    """CNF-4: with bob and chen left, one of them owns it and both are told who."""
    await call_conference(console, "chat")
    await console.run("@chen: ready\n@alice: conference @chen\n@chen: accept")
    assert parties(console, "i1")["@chen"] == ("member", True)
    console.mark()
    await console.run("@alice: leave")
    for member in ("@bob", "@chen"):
        assert console.received(member) == ["(i1) @alice left i1.", "(i1) @bob now owns i1."]
    assert owners(console, "i1") == ["@bob"]
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        "@chen": ("member", True),
        "customer:Ann": ("customer", True),
    }
    # Only the new owner can act as owner now.
    console.mark()
    await console.run("@alice: end i1\n@chen: end")
    assert console.received("@alice")[0].startswith("You are no longer connected to i1;")
    assert console.received("@chen")[0].startswith("Only the owner @bob can end i1")
    assert stored(console, "i1")["state"] == "active"


# --- CNF-5: the last member leaves ----------------------------------------------------------


async def test_last_member_leaving_a_call_ends_it_cnf_5(console: Console) -> None:
    """CNF-5: voice (rule on by default): the last member leaves, only Ann is left, it ends."""
    await call_conference(console)
    await console.run("@bob: leave")
    console.mark()
    await console.run("@alice: leave")
    assert console.received("customer:Ann") == ["(i1) The call has ended."]
    assert console.received("@alice") == [
        "You left i1. Mark it `done i1` when your notes are complete."
    ]
    assert console.received("@bob") == []
    ix = stored(console, "i1")
    assert ix["state"] == "wrapup"
    assert parties(console, "i1") == {
        "@alice": ("owner", False),
        "@bob": ("member", False),
        "customer:Ann": ("customer", False),
    }
    assert presence(console, "alice") == "ready"
    await console.run("@alice: done i1\n@bob: done i1")
    assert stored(console, "i1")["state"] == "closed"
    assert live(console) == []


async def test_last_member_leaving_a_two_party_call_ends_it_cnf_5(console: Console) -> None:
    """CNF-5: the rule applies to a plain call too: alice `leave`s Ann, the call ends."""
    await console.run("@alice: ready\nsim call Ann @alice\n@alice: accept")
    console.mark()
    await console.run("@alice: leave")
    assert console.received("customer:Ann") == ["(i1) The call has ended."]
    assert stored(console, "i1")["state"] == "wrapup"
    assert parties(console, "i1") == {
        "@alice": ("owner", False),
        "customer:Ann": ("customer", False),
    }


async def test_last_member_cannot_leave_a_chat_cnf_5(console: Console) -> None:
    """CNF-5: chat (rule off): the last member's `leave` is refused and nothing changes."""
    await call_conference(console, "chat")
    await console.run("@bob: leave")
    before = snapshot(console.core.store)
    console.mark()
    await console.run("@alice: leave")
    refusal = console.received("@alice")[0]
    assert refusal.startswith("@alice is the last member on i1; `end` it or `transfer` it instead.")
    assert REF.search(refusal)
    assert console.received("customer:Ann") == []
    assert console.received("@bob") == []
    assert snapshot(console.core.store) == before
    assert parties(console, "i1")["@alice"] == ("owner", True)
    assert stored(console, "i1")["state"] == "active"
    refused = console.core.store.events(kind="refused")
    assert refused[-1].actor == "alice"
    assert refused[-1].data["text"] == "leave"


async def test_last_member_leaving_a_chat_ends_it_when_the_rule_is_on_cnf_5(
    tmp_path: Path,
) -> None:
    """CNF-5: with `end_when_last_member_leaves_external.chat: true` the chat ends instead."""
    rules = edited_policy(tmp_path, "    chat: false", "    chat: true")
    console = Console(rules, tmp_path / "db")
    try:
        await console.run("@alice: ready\nsim chat Ann @alice hello\n@alice: accept")
        console.mark()
        await console.run("@alice: leave")
        assert console.received("customer:Ann") == ["(i1) The chat has ended."]
        assert stored(console, "i1")["state"] == "wrapup"
        assert parties(console, "i1")["customer:Ann"] == ("customer", False)
    finally:
        console.close()


# --- CNF-6: remove @x by a role the rules allow --------------------------------------------


async def test_an_agent_removes_a_party_cnf_6(console: Console) -> None:
    """CNF-6: with the default roles, agent alice `remove @bob`; bob and the members are told."""
    await call_conference(console)
    await console.run("@chen: ready\n@alice: conference @chen\n@chen: accept")
    console.mark()
    await console.run("@alice: remove @bob")
    assert "You removed @bob from i1." in console.received("@alice")
    assert console.received("@bob") == ["(i1) @alice removed you from i1."]
    assert console.received("@chen") == ["(i1) @bob (removed by @alice) left i1."]
    assert "(i1) @bob (removed by @alice) left i1." in console.received("@alice")
    assert console.received("customer:Ann") == []
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@bob": ("member", False),
        "@chen": ("member", True),
        "customer:Ann": ("customer", True),
    }
    console.mark()
    await console.run("sim say Ann AFTER-REMOVE-9b")
    assert console.received("@bob") == []
    assert console.received("@chen") == ["(i1) Ann: AFTER-REMOVE-9b"]
    assert presence(console, "bob") == "ready"


async def test_remove_is_refused_for_a_role_the_rules_do_not_allow_cnf_6(
    supervisors_remove: Console,
) -> None:
    """CNF-6: with `remove_party_roles: [supervisor]` agent alice is refused; sam may remove."""
    console = supervisors_remove
    await call_conference(console)
    before = snapshot(console.core.store)
    console.mark()
    await console.run("@alice: remove @bob")
    refusal = console.received("@alice")[0]
    assert refusal.startswith(
        "Only supervisors may remove parties (conference.remove_party_roles)."
    )
    assert REF.search(refusal)
    assert console.received("@bob") == []
    assert snapshot(console.core.store) == before

    console.mark()
    await console.run("@sam: barge @alice\n@sam: remove @bob")
    assert "You removed @bob from i1." in console.received("@sam")
    assert console.received("@bob")[-1] == "(i1) @sam removed you from i1."
    assert "(i1) @bob (removed by @sam) left i1." in console.received("@alice")
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@bob": ("member", False),
        "@sam": ("barger", True),
        "customer:Ann": ("customer", True),
    }


# --- CNF-7: membership changes are shown to members, and to the customer only by rule -------


async def test_membership_changes_are_shown_to_members_not_the_customer_cnf_7(
    console: Console,
) -> None:
    """CNF-7: joins and leaves reach every member of the conference; Ann hears none of them."""
    await console.run(
        "@alice: ready\n@bob: ready\n@chen: ready\nsim chat Ann @alice hello\n@alice: accept"
    )
    console.mark()
    await console.run(
        """
        @alice: conference @bob
        @bob: accept
        @alice: conference @chen
        @chen: accept
        @bob: leave
        """
    )
    alice = console.received("@alice")
    assert "(i1) @bob joined i1." in alice
    assert "(i1) @chen joined i1." in alice
    assert "(i1) @bob left i1." in alice
    assert "(i1) @chen joined i1." in console.received("@bob")
    assert "(i1) @bob left i1." in console.received("@chen")
    ann = console.received("customer:Ann")
    assert ann == []
    assert mentioning(ann, "Bob") == mentioning(ann, "Chen") == []


async def test_membership_changes_reach_the_customer_when_announced_cnf_7(
    announcing: Console,
) -> None:
    """CNF-7: with `announce_to_customer: true` Ann is told who joined and who left."""
    console = announcing
    await console.run(
        "@alice: ready\n@bob: ready\n@chen: ready\nsim chat Ann @alice hello\n@alice: accept"
    )
    console.mark()
    await console.run(
        """
        @alice: conference @bob
        @bob: accept
        @alice: conference @chen
        @chen: accept
        @bob: leave
        """
    )
    assert console.received("customer:Ann") == [
        "(i1) Bob Baker joined.",
        "(i1) Chen Li joined.",
        "(i1) Bob Baker left.",
    ]
    assert "(i1) @bob left i1." in console.received("@chen")
    assert parties(console, "i1")["@chen"] == ("member", True)


# --- CNF-8: back to an ordinary two-party interaction ---------------------------------------


async def test_a_conference_down_to_one_member_is_two_party_again_cnf_8(
    console: Console,
) -> None:
    """CNF-8: after `remove`, the remaining owner works i1 as usual: hold, resume, end, done."""
    await call_conference(console)
    console.mark()
    await console.run("@alice: remove @bob")
    assert "(i1) i1 is a two-party voice again." in console.received("@alice")
    assert owners(console, "i1") == ["@alice"]

    console.mark()
    await console.run("@alice: hold\n@alice: resume\n@alice: end\n@alice: done i1\n@bob: done i1")
    assert console.received("customer:Ann") == [
        "(i1) You are on hold.",
        "(i1) You are off hold.",
        "(i1) Alice Anders ended the call.",
    ]
    assert console.received("@bob") == ["i1 is done. It is closed."]
    assert stored(console, "i1")["state"] == "closed"
    assert presence(console, "alice") == "ready"
    assert available(console, "support") == 2


async def test_new_owner_of_a_two_party_chat_is_refused_leave_cnf_8(console: Console) -> None:
    """CNF-8 / CNF-5: bob, owner after alice left, is the last member: he must end it."""
    await call_conference(console, "chat")
    await console.run("@alice: leave")
    console.mark()
    await console.run("@bob: leave\n@bob: end")
    assert console.received("@bob")[0].startswith("@bob is the last member on i1;")
    assert console.received("@bob")[1] == (
        "You ended i1. Mark it `done i1` when your notes are complete."
    )
    assert console.received("customer:Ann") == ["(i1) Bob Baker ended the chat."]
    assert stored(console, "i1")["state"] == "wrapup"
