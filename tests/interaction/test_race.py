"""Two members accept the same offer at the same instant: exactly one wins (INT-3, IM-5, TRF-2).

Each race is a real asyncio race: both `accept`s are in flight together through
`Core.handle`, and whichever the event loop lets in first wins. Each is run many times,
with the two sides swapped every other round.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.events import Command
from bot.port import Port
from bot.state import snapshot
from tests.support.console import Console, copy_rules
from tests.support.state import live, live_view, rung

ROUNDS = 50
REF = re.compile(r"\(ref [0-9a-f]{6}\)$")


async def race(console: Console, iid: str, first: str, second: str) -> dict[str, str]:
    """``first`` and ``second`` send `accept iid` concurrently; their replies by member."""
    core = console.core
    one, two = await asyncio.gather(
        core.handle(Command("console", first, f"accept {iid}")),
        core.handle(Command("console", second, f"accept {iid}")),
    )
    return {first: one.reply, second: two.reply}


def stored(console: Console, iid: str) -> dict[str, object]:
    found = [i for i in snapshot(console.core.store)["interactions"] if i["id"] == iid]
    assert len(found) == 1
    return found[0]


def parties(console: Console, iid: str) -> dict[str, tuple[str, bool]]:
    """Stored parties by who (rows joined at the same instant come in no set order)."""
    rows = stored(console, iid)["parties"]
    assert isinstance(rows, list)
    return {p["who"]: (p["role"], p["connected"]) for p in rows}


def accepted(console: Console, iid: str) -> list[str]:
    return [str(e.data["by"]) for e in console.core.store.events(subject=iid, kind="accepted")]


@pytest.fixture
async def deliver_to_all(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `im.group_delivery: all`: an IM to a group rings every ready member."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "group_delivery: one" in text
    policy.write_text(text.replace("group_delivery: one", "group_delivery: all"), "utf-8")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


async def test_two_members_accept_one_group_im_at_once_exactly_one_joins_im_5(
    deliver_to_all: Console,
) -> None:
    """IM-5 / INT-3: alice and bob accept the same group IM together; one joins, one is told."""
    console = deliver_to_all
    await console.run("@alice: ready\n@bob: ready\n@chen: ready")
    winners = set()
    for round_ in range(ROUNDS):
        iid = f"i{round_ + 1}"
        await console.run(f"@sam: im group:support question {round_}")
        assert rung(console, iid) == {"alice", "bob", "chen"}

        console.mark()
        first, second = ("alice", "bob") if round_ % 2 == 0 else ("bob", "alice")
        replies = await race(console, iid, first, second)

        joined = [m for m, reply in replies.items() if reply == f"You joined {iid} im."]
        assert len(joined) == 1, replies
        winner = joined[0]
        loser = "bob" if winner == "alice" else "alice"
        assert replies[loser].startswith(f"{iid} was already taken by @{winner}."), replies
        assert REF.search(replies[loser])
        winners.add(winner)

        # who was told what: sam and the other rung members hear of exactly one winner
        assert console.received("@sam") == [f"({iid}) @{winner} accepted {iid} im."]
        assert console.received("@chen") == [f"({iid}) {iid} was taken by @{winner}."]
        assert console.received(f"@{loser}") == [f"({iid}) {iid} was taken by @{winner}."]
        # one joiner, in memory (the read model of a live interaction) and in the store
        ix = live_view(console, iid)
        assert (ix.state, ix.owner, ix.offer_expires) == ("active", "sam", None)
        assert sorted(ix.parties) == sorted(["@sam (owner)", f"@{winner} (member)"])
        row = stored(console, iid)
        assert row["state"] == "active"
        assert parties(console, iid) == {
            "@sam": ("owner", True),
            f"@{winner}": ("member", True),
        }
        assert accepted(console, iid) == [f"@{winner}"]

        await console.run(f"@sam: end {iid}\n@sam: done {iid}\n@{winner}: done {iid}")
        assert stored(console, iid)["state"] == "closed"
    # the loop saw the race go both ways: the first one in wins, whoever it is
    assert winners == {"alice", "bob"}
    assert live(console) == []


async def test_a_late_accept_races_the_member_the_offer_moved_on_to_int_3(
    console: Console,
) -> None:
    """INT-3: alice's offer timed out and now rings bob; her late accept races his: bob owns it."""
    await console.run("@alice: ready\n@bob: ready")
    for round_ in range(ROUNDS):
        iid = f"i{round_ + 1}"
        await console.run(f"sim chat Cust{round_} group:support hello {round_}")
        first_rung = rung(console, iid)
        assert len(first_rung) == 1
        [late] = first_rung
        moved_to = "bob" if late == "alice" else "alice"
        await console.run("tick 21s")
        assert rung(console, iid) == {moved_to}

        console.mark()
        order = (late, moved_to) if round_ % 2 == 0 else (moved_to, late)
        replies = await race(console, iid, *order)

        assert replies[moved_to].startswith(f"You have {iid} chat with Cust{round_}."), replies
        refused = replies[late]
        assert refused.startswith(
            (
                f"Nothing about {iid} is offered to you now.",
                f"{iid} was already taken by @{moved_to}.",
            )
        ), replies
        assert REF.search(refused)
        assert console.received(f"customer:Cust{round_}") == [
            f"({iid}) {Port(console.core, 'console').member_by_id(moved_to).name} joined."
        ]
        ix = live_view(console, iid)
        assert (ix.state, ix.owner, ix.offer_expires) == ("active", moved_to, None)
        row = stored(console, iid)
        assert row["owner"] == moved_to
        assert parties(console, iid) == {
            f"customer:Cust{round_}": ("customer", True),
            f"@{moved_to}": ("owner", True),
        }
        assert accepted(console, iid) == [f"@{moved_to}"]

        await console.run(f"@{moved_to}: end {iid}\n@{moved_to}: done {iid}")
        assert stored(console, iid)["state"] == "closed"
        await console.run(f"@{late}: ready")  # the missed offer made them not ready
    assert live(console) == []


async def test_two_members_race_for_one_routed_call_int_3(console: Console) -> None:
    """INT-3: bob, ringing for a call, and alice, not ringing, accept together: only bob gets it."""
    await console.run("@bob: ready\ntick 1s\n@alice: ready")
    for round_ in range(ROUNDS):
        iid = f"i{round_ + 1}"
        await console.run(f"sim call Caller{round_} group:support")
        [ringing] = rung(console, iid)
        other = "alice" if ringing == "bob" else "bob"
        order = (other, ringing) if round_ % 2 == 0 else (ringing, other)
        replies = await race(console, iid, *order)
        assert replies[ringing].startswith(f"You have {iid} voice with Caller{round_}."), replies
        assert replies[other].startswith(
            (
                f"Nothing about {iid} is offered to you now.",
                f"{iid} was already taken by @{ringing}.",
            )
        ), replies
        state = snapshot(console.core.store)
        presence = {m["id"]: m["presence"] for m in state["members"]}
        assert (presence[ringing], presence[other]) == ("busy", "ready")
        assert stored(console, iid)["owner"] == ringing
        await console.run(f"@{ringing}: end {iid}\n@{ringing}: done {iid}")
    assert live(console) == []
