"""Routing customers to members and groups, through the console (INT-2, INT-3, GRP-3..5).

Policy of the shipped rules: `routing.accept_timeout` 20s, `routing.wait_for_agent` 30s,
capacity voice 1 / chat 3; support → voicemail, billing → fallback:support, vip → wait.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import (
    counts,
    edited_policy,
    live,
    live_view,
    parties,
    presences,
    ringing,
    stored,
)

REF = re.compile(r"\(ref [0-9a-f]{6}\)$")
HOLD_ON = "(i1) Please hold, we are finding someone for you."


def events(console: Console, iid: str, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in console.core.store.events(subject=iid, kind=kind)]


def offered_to(console: Console, iid: str) -> list[list[str]]:
    """Whom each offer of ``iid`` rang, in order."""
    return [list(d["to"]) for d in events(console, iid, "offered")]


@pytest.fixture
async def refusing_billing(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `groups.billing.when_empty: refuse`."""
    rules = edited_policy(tmp_path, "when_empty: fallback:support", "when_empty: refuse")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


# --- INT-2, INT-3: offers, accept, decline, timeout ------------------------------------------


async def test_a_customer_chat_is_offered_to_one_member_who_accepts_int_2_int_3(
    console: Console,
) -> None:
    """INT-2 / INT-3: `sim chat` rings exactly one available member; `accept` makes them owner."""
    await console.run("@alice: ready\n@bob: ready")
    console.mark()
    await console.run("sim chat Ann group:support my order is late")
    assert console.received("@alice") == [
        "(i1) New chat from Ann via group:support: “my order is late”. "
        "`accept i1` or `decline i1` within 20s."
    ]
    assert console.received("@bob") == []
    assert stored(console, "i1")["state"] == "offered"
    assert stored(console, "i1")["owner"] is None

    console.mark()
    await console.run("@alice: accept")
    assert console.received("@alice") == [
        "You have i1 chat with Ann.",
        "Contact: Ann",
        "first message: my order is late",
        "Transcript so far:",
        "  Ann: my order is late",
    ]
    assert console.received("customer:Ann") == ["(i1) Alice Anders joined."]
    assert console.received("@bob") == []
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "alice")
    assert parties(console, "i1") == {"customer:Ann": ("customer", True), "@alice": ("owner", True)}
    assert offered_to(console, "i1") == [["@alice"]]
    assert events(console, "i1", "accepted") == [{"by": "@alice", "purpose": "route"}]
    # a chat is not a call: alice stays available for more (capacity 3)
    assert presences(console)["alice"] == "ready"
    assert counts(console)["support"] == 2


async def test_decline_reroutes_to_another_member_int_3(console: Console) -> None:
    """INT-3: a declined offer rings the next available member; the decliner is out of it."""
    await console.run("@alice: ready\n@bob: ready\nsim call Carl group:support")
    console.mark()
    await console.run("@alice: decline")
    assert console.received("@alice") == ["You declined i1."]
    assert console.received("@bob") == [
        "(i1) New call from Carl via group:support. `accept i1` or `decline i1` within 20s."
    ]
    assert console.received("customer:Carl") == []
    assert events(console, "i1", "declined") == [{"by": "@alice"}]

    console.mark()
    await console.run("@bob: accept\n@alice: list")
    assert console.received("@bob")[0] == "You have i1 voice with Carl."
    assert console.received("customer:Carl") == ["(i1) Bob Baker joined."]
    assert console.received("@alice") == ["You have no live interactions."]
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "bob")
    assert parties(console, "i1") == {"customer:Carl": ("customer", True), "@bob": ("owner", True)}
    assert offered_to(console, "i1") == [["@alice"], ["@bob"]]
    assert (presences(console)["alice"], presences(console)["bob"]) == ("ready", "busy")
    assert counts(console)["support"] == 1


async def test_accept_timeout_reroutes_and_tells_the_member_int_3(console: Console) -> None:
    """INT-3: after `routing.accept_timeout` (20s) the member is told and the next one is rung."""
    await console.run("@alice: ready\ntick 1s\n@bob: ready\nsim chat Ann group:support hi")
    console.mark()
    await console.run("tick 19s")
    assert console.received("@alice") == []
    assert stored(console, "i1")["state"] == "offered"

    await console.run("tick 2s")
    assert console.received("@alice") == [
        "(i1) The offer of i1 timed out.",
        "You did not answer i1, so you are not ready (missed offer)."
        " Type `ready` when you can take work again.",
    ]
    assert console.received("@bob") == [
        "(i1) New chat from Ann via group:support: “hi”. `accept i1` or `decline i1` within 20s."
    ]
    assert events(console, "i1", "timed_out") == [{"by": "@alice"}]
    assert presences(console)["alice"] == "not_ready"
    [note] = snapshot(console.core.store)["inbox"]["sam"]
    assert note["text"] == "@alice did not answer i1 chat with Ann from group:support."

    console.mark()
    await console.run("@alice: accept i1\n@bob: accept i1")
    late = console.received("@alice")
    assert len(late) == 1
    assert late[0].startswith("Nothing about i1 is offered to you now.")
    assert REF.search(late[0])
    assert console.received("@bob")[0] == "You have i1 chat with Ann."
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "bob")
    assert parties(console, "i1") == {"customer:Ann": ("customer", True), "@bob": ("owner", True)}
    assert offered_to(console, "i1") == [["@alice"], ["@bob"]]


async def test_a_missed_offer_can_keep_the_members_presence_int_3(tmp_path: Path) -> None:
    """INT-3: with `routing.on_missed_offer: keep` the member stays ready; the next is rung in
    the same tick and the supervisors are still told."""
    rules = edited_policy(tmp_path, "on_missed_offer: not_ready", "on_missed_offer: keep")
    console = Console(rules, tmp_path / "db")
    await console.run("@alice: ready\ntick 1s\n@bob: ready\nsim chat Ann group:support hi")
    console.mark()
    await console.run("tick 20s")
    assert console.received("@alice") == ["(i1) The offer of i1 timed out."]
    assert offered_to(console, "i1") == [["@alice"], ["@bob"]]
    assert presences(console)["alice"] == "ready"
    assert [m["text"] for m in snapshot(console.core.store)["inbox"]["sam"]] == [
        "@alice did not answer i1 chat with Ann from group:support."
    ]
    console.close()


async def test_nobody_left_to_ring_applies_the_groups_when_empty_int_3_grp_3(
    console: Console,
) -> None:
    """INT-3 / GRP-3: the only ready member declines; after the wait, support's voicemail."""
    await console.run("@alice: ready\nsim chat Ann group:support please call me back")
    console.mark()
    await console.run("@alice: decline")
    assert console.received("@alice") == ["You declined i1."]
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("queued", None)
    assert [e["target"] for e in events(console, "i1", "waiting")] == ["group:support"]

    console.mark()
    await console.run("tick 31s")
    assert console.received("customer:Ann") == [
        "(i1) Nobody is free to take this right now, so your message was left for Support; "
        "we will get back to you."
    ]
    assert console.received("@alice") == [  # MSG-4: she reads the support box
        "New message #2 (voicemail): New voicemail in support from Ann (30s); "
        "support: 1 new, 0 old. `voicemail support` to listen."
    ]
    state = snapshot(console.core.store)
    assert state["mailboxes"]["support"] == {"new": 1, "old": 0}
    assert stored(console, "i1")["state"] == "closed"
    assert events(console, "i1", "voicemail") == [{"mailbox": "support"}]
    assert "i1" not in live(console)


# --- GRP-3: who gets the work --------------------------------------------------------------


async def test_the_longest_idle_member_gets_the_work_first_grp_3(console: Console) -> None:
    """GRP-3: bob was ready first, so bob is rung although alice comes first in the directory."""
    await console.run("@bob: ready\ntick 5s\n@alice: ready\ntick 5s\n@chen: ready")
    console.mark()
    await console.run("sim chat Ann group:support hi")
    assert [line for line in console.received("@bob") if "New chat" in line]
    assert console.received("@alice") == []
    assert console.received("@chen") == []
    assert offered_to(console, "i1") == [["@bob"]]
    await console.run("@bob: accept\n@bob: transfer group:support --explain")
    assert console.last("@bob") == (
        "group:support: 2 ready now; it would ring @alice (longest idle)."
    )


@pytest.mark.parametrize("choose", ["longest_idle", "fewest_interactions"])
async def test_chats_spread_over_ready_agents_two_each_grp_3(tmp_path: Path, choose: str) -> None:
    """GRP-3: three ready agents, six chats one by one: two each, not all to the first ready
    (chat capacity 3 keeps alice available, so "available" alone would pick her every time),
    whichever way `routing.choose` orders them."""
    rules = edited_policy(tmp_path, "choose: longest_idle", f"choose: {choose}")
    console = Console(rules, tmp_path / "db")
    await console.run("@alice: ready\ntick 1s\n@bob: ready\ntick 1s\n@chen: ready")
    owners: dict[str, int] = {}
    for n in range(1, 7):
        await console.run(f"tick 1s\nsim chat C{n} group:support order {n}")
        [rung] = offered_to(console, f"i{n}")
        await console.run(f"{rung[0]}: accept i{n}")
        owner = stored(console, f"i{n}")["owner"]
        owners[owner] = owners.get(owner, 0) + 1
    assert owners == {"alice": 2, "bob": 2, "chen": 2}
    assert [offered_to(console, f"i{n}")[0] for n in range(1, 4)] == [
        ["@alice"],
        ["@bob"],
        ["@chen"],
    ]
    console.close()


async def test_idle_time_counts_from_the_end_of_the_last_call_grp_3(console: Console) -> None:
    """GRP-3: alice was ready first but just finished a call, so bob is now the longest idle."""
    await console.run(
        "@alice: ready\ntick 5s\n@bob: ready\nsim call Carl group:support\n@alice: accept"
    )
    assert offered_to(console, "i1") == [["@alice"]]
    assert presences(console)["alice"] == "busy"
    await console.run("tick 10s\n@alice: end\n@alice: done")
    assert presences(console)["alice"] == "ready"
    console.mark()
    await console.run("sim call Cleo group:support")
    assert console.received("@bob") == [
        "(i2) New call from Cleo via group:support. `accept i2` or `decline i2` within 20s."
    ]
    assert console.received("@alice") == []
    assert offered_to(console, "i2") == [["@bob"]]


async def test_equally_idle_members_then_fewest_interactions_grp_3(console: Console) -> None:
    """GRP-3: alice and bob became ready together; alice holds a chat, so bob gets the next."""
    await console.run("@alice: ready\n@bob: ready\nsim chat Ann group:support one")
    assert offered_to(console, "i1") == [["@alice"]]  # a tie: directory order
    await console.run("@alice: accept")
    console.mark()
    await console.run("sim chat Ben group:support two")
    assert offered_to(console, "i2") == [["@bob"]]
    assert console.received("@alice") == []
    assert console.received("@bob") == [
        "(i2) New chat from Ben via group:support: “two”. `accept i2` or `decline i2` within 20s."
    ]
    await console.run("@bob: accept\n@bob: say hello Ben")
    assert stored(console, "i2")["owner"] == "bob"
    assert console.received("customer:Ben")[-1] == "(i2) Bob Baker: hello Ben"


async def test_routing_points_and_skills_ring_one_of_their_members_grp_3(
    console: Console,
) -> None:
    """GRP-3: `rp:sales` rings a support member; `skill:spanish` rings bob or eli, never both."""
    await console.run("@chen: ready\ntick 1s\n@bob: ready\ntick 1s\n@eli: ready")
    console.mark()
    await console.run("sim call Carl rp:sales\nsim chat Ana skill:spanish hola")
    assert offered_to(console, "i1") == [["@chen"]]
    assert offered_to(console, "i2") == [["@bob"]]  # chen is not a Spanish speaker
    assert console.received("@chen") == [
        "(i1) New call from Carl via rp:sales. `accept i1` or `decline i1` within 20s."
    ]
    assert console.received("@bob") == [
        "(i2) New chat from Ana via skill:spanish: “hola”. `accept i2` or `decline i2` within 20s."
    ]
    assert console.received("@eli") == []


# --- GRP-3: waiting and what happens after the wait -----------------------------------------


async def test_vip_waits_telling_the_customer_then_fails_clearly_grp_3(console: Console) -> None:
    """GRP-3: vip (`when_empty: wait`) waits 30s, telling the caller, then fails with a message."""
    await console.run("sim call Carl group:vip")
    assert console.received("customer:Carl") == [HOLD_ON]
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("queued", None)
    assert ringing(console, "i1")

    console.mark()
    await console.run("tick 29s")
    assert console.received("customer:Carl") == []
    assert stored(console, "i1")["state"] == "queued"

    await console.run("tick 2s")
    assert console.received("customer:Carl") == [
        "(i1) Sorry, nobody can take your call now. Please try again later."
    ]
    assert console.received("@fay") == []
    row = stored(console, "i1")
    assert row["state"] == "closed"
    assert parties(console, "i1") == {"customer:Carl": ("customer", False)}
    assert [e["reason"] for e in events(console, "i1", "offer_failed")] == [
        "Nobody in group:vip became available within 30s."
    ]
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 0, "old": 0}
    assert live(console) == []


async def test_support_falls_back_to_its_voicemail_after_the_wait_grp_3(
    console: Console,
) -> None:
    """GRP-3: support (`when_empty: voicemail`): after 30s the call lands in the support box."""
    await console.run("sim call Eve group:support")
    assert console.received("customer:Eve") == ["(i1) Please hold, we are finding someone for you."]
    console.mark()
    await console.run("tick 31s")
    assert console.received("customer:Eve") == [
        "(i1) Nobody is free to take this right now, so your message was left for Support; "
        "we will get back to you."
    ]
    state = snapshot(console.core.store)
    assert state["mailboxes"]["support"] == {"new": 1, "old": 0}
    assert state["mailboxes"]["alice"] == {"new": 0, "old": 0}
    assert stored(console, "i1")["state"] == "closed"
    assert events(console, "i1", "voicemail") == [{"mailbox": "support"}]


async def test_billing_falls_back_to_support_after_the_wait_grp_3_grp_5(
    console: Console,
) -> None:
    """GRP-3 / GRP-5: billing is empty; after 30s the chat goes on to support and rings alice."""
    await console.run("@alice: ready\nsim chat Wes group:billing Review refund 42")
    assert console.received("customer:Wes") == [
        "(i1) Hello Wes, thanks for getting in touch. Someone will be with you shortly.",
        "(i1) Please hold, we are finding someone for you.",
    ]
    assert console.received("@alice") == ["You are ready."]  # not rung: she is not in billing
    console.mark()
    await console.run("tick 31s")
    assert console.received("@alice") == [
        "(i1) New chat from Wes via group:support: “Review refund 42”. "
        "`accept i1` or `decline i1` within 20s."
    ]
    assert console.received("customer:Wes") == [
        "(i1) Thank you for waiting; we are still finding someone for you."
    ]
    assert events(console, "i1", "fallback") == [{"from": "group:billing", "to": "group:support"}]
    await console.run("@alice: accept")
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "alice")
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 0, "old": 0}


async def test_a_member_becoming_ready_during_the_wait_is_rung_at_once_grp_3(
    console: Console,
) -> None:
    """GRP-3: chen turns ready 10s into the wait and is rung by that very command."""
    await console.run("sim chat Ann group:support anyone there?\ntick 10s")
    console.mark()
    out = await console.run("@chen: ready")
    assert out == [
        "@chen: ready",
        "[@chen] You are ready.",
        "[@chen] (i1) New chat from Ann via group:support: “anyone there?”. "
        "`accept i1` or `decline i1` within 20s. It waited 10s.",
    ]
    await console.run("@chen: accept\ntick 30s")
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "chen")
    # the old wait deadline passed without effect: no voicemail, no failure
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 0, "old": 0}
    assert "(i1) Chen Li joined." in console.received("customer:Ann")
    assert not [line for line in console.received("customer:Ann") if "Sorry" in line]


# --- GRP-4: counts follow load --------------------------------------------------------------


async def test_an_accepted_call_makes_the_member_busy_and_uncounted_grp_4(
    console: Console,
) -> None:
    """GRP-4: a voice call accepted → busy, support count drops; the call done → counted again."""
    await console.run("@alice: ready\n@bob: ready\n@dana: groups")
    assert "group:support Support — 2 ready (now)" in console.last("@dana")
    await console.run("sim call Carl group:support\n@alice: accept\n@dana: groups")
    assert "group:support Support — 1 ready (now)" in console.last("@dana")
    assert presences(console)["alice"] == "busy"
    assert counts(console)["support"] == 1
    await console.run("@dana: status @alice")
    assert console.last("@dana").startswith("@alice Alice Anders — busy")

    await console.run("@alice: hold\n@dana: groups")
    assert "group:support Support — 1 ready (now)" in console.last("@dana")  # held is still busy

    await console.run("@alice: resume\n@alice: end")
    assert presences(console)["alice"] == "ready"  # wrapup: no longer on the call
    assert counts(console)["support"] == 2
    await console.run("@alice: done\n@dana: groups")
    assert "group:support Support — 2 ready (now)" in console.last("@dana")
    assert console.core.directory.counts() == console.core.directory.recount()


async def test_three_chats_put_a_member_at_capacity_and_a_fourth_waits_grp_4(
    console: Console,
) -> None:
    """GRP-4: chat capacity 3: the third chat makes alice busy; a fourth waits until one ends."""
    await console.run("@alice: ready")
    for number, name in enumerate(("Ann", "Ben", "Cat"), 1):
        await console.run(f"sim chat {name} group:support hi\n@alice: accept i{number}")
        expected = ("ready", 1) if number < 3 else ("busy", 0)
        assert (presences(console)["alice"], counts(console)["support"]) == expected
    console.mark()
    await console.run("sim chat Dan group:support me too")
    assert console.received("@alice") == []
    assert "(i4) Please hold, we are finding someone for you." in (console.received("customer:Dan"))
    assert stored(console, "i4")["state"] == "queued"

    out = await console.run("@alice: end i2")
    assert (
        "[@alice] (i4) New chat from Dan via group:support: “me too”. "
        + ("`accept i4` or `decline i4` within 20s. It waited 1s.")
        in out
    )
    assert (presences(console)["alice"], counts(console)["support"]) == ("ready", 1)
    await console.run("@alice: accept i4")
    assert (presences(console)["alice"], counts(console)["support"]) == ("busy", 0)
    assert stored(console, "i4")["owner"] == "alice"
    assert console.core.directory.counts() == console.core.directory.recount()


# --- GRP-5: refuse, --explain, a zero count ---------------------------------------------------


async def test_refuse_policy_fails_at_once_grp_5(refusing_billing: Console) -> None:
    """GRP-5: `when_empty: refuse`: an empty billing fails the chat at once, without a wait."""
    console = refusing_billing
    await console.run("@alice: ready\nsim chat Ann group:billing hello")
    said = console.received("customer:Ann")
    assert "(i1) Sorry, nobody can take your chat now. Please try again later." in said
    assert not [line for line in said if "Please hold on" in line]
    assert console.received("@alice") == ["You are ready."]
    assert stored(console, "i1")["state"] == "closed"
    assert events(console, "i1", "waiting") == []
    assert [e["reason"] for e in events(console, "i1", "offer_failed")] == [
        "Nobody in group:billing is available."
    ]
    assert live(console) == []


async def test_explain_describes_the_decision_and_changes_nothing_grp_5(
    console: Console,
) -> None:
    """GRP-5: `transfer … --explain` / `conference … --explain` say what would happen, only."""
    await console.run(
        "@bob: ready\ntick 1s\n@alice: ready\ntick 1s\n@chen: ready\n"
        "sim chat Ann group:support hi\n@bob: accept"
    )
    before = snapshot(console.core.store)
    recent = await console.run("@bob: recent")
    console.mark()
    await console.run(
        "@bob: transfer group:support --explain\n"
        "@bob: transfer group:billing --explain\n"
        "@bob: conference group:vip --explain\n"
        "@bob: conference @chen --explain\n"
        "@bob: transfer @fay --explain"
    )
    assert console.received("@bob") == [
        "group:support: 2 ready now; it would ring @alice (longest idle).",
        "group:billing: nobody ready now; it would wait up to 30s, then go to group:support.",
        "group:vip: nobody ready now; it would wait up to 30s, then fail with a message.",
        "@chen is ready: it would ring @chen.",
        "@fay is logged off: the transfer would fail.",
    ]
    for other in ("@alice", "@chen", "@fay", "customer:Ann"):
        assert console.received(other) == []
    assert snapshot(console.core.store) == before
    ix = live_view(console, "i1")
    assert (ix.state, ix.owner, ix.offer_expires) == ("active", "bob", None)
    assert events(console, "i1", "offered") == [{"to": ["@bob"], "purpose": "route"}]
    assert (await console.run("@bob: recent"))[1:] == recent[1:]


async def test_a_count_of_zero_does_not_refuse_by_itself_grp_5(console: Console) -> None:
    """GRP-5: vip shows 0 ready, yet a transfer there waits (policy `wait`) and fay gets it."""
    await console.run("@bob: ready\nsim chat Ann group:support hi\n@bob: accept\n@bob: groups")
    assert "group:vip VIP desk — 0 ready (now)" in console.last("@bob")
    console.mark()
    await console.run("@bob: transfer group:vip")
    assert console.received("@bob") == [
        "Transferring i1: nobody in group:vip is available now; waiting up to 30s."
    ]
    ix = live_view(console, "i1")
    assert (ix.state, ix.owner) == ("active", "bob")
    # an offer is out for group:vip, ringing nobody: bob still handles i1, nobody else does
    assert ix.offer_expires is not None and ix.handlers == ("bob",)
    assert not live_view(console, "i1", "bob").offered
    assert [e["target"] for e in events(console, "i1", "waiting")] == ["group:vip"]

    console.mark()
    await console.run("tick 10s\n@fay: ready")
    assert console.received("@fay")[-1] == (
        "(i1) @bob transfers i1 chat with Ann to you via group:vip: “hi”. "
        "`accept i1` or `decline i1` within 20s."
    )
    await console.run("@fay: accept")
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "fay")
    assert parties(console, "i1") == {
        "customer:Ann": ("customer", True),
        "@bob": ("member", False),
        "@fay": ("owner", True),
    }
    assert console.received("customer:Ann")[-1] == "(i1) You are now with Fay Fischer."
