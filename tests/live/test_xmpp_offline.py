"""Issue 14, defects 1 and 2: members and customers who go offline (INT-2, MSG-2, ADP-4).

A member who goes offline has their messages held durably and delivered in order when back,
with a note on their other platforms; past ``routing.offline_grace`` their chat goes back to
routing. A customer whose client disconnects has the chat ended after
``customers.offline_grace``, and the agent is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.live.conftest import Live, rules_with, start_backline, stop_backline
from tests.support.prosody import COMPONENT, Prosody

SUPPORT = f"support@{COMPONENT}"
I1 = f"i1@{COMPONENT}"


@pytest.fixture
async def quick(prosody: Prosody, tmp_path: Path) -> AsyncIterator[Live]:
    """backline on rules whose offline graces are short: members 1s, customers 0.5s."""
    rules = rules_with(tmp_path / "rules", routing="1s", customers="500ms")
    core, adapter = await start_backline(prosody, tmp_path / "backline.db", rules=rules)
    env = Live(prosody, core, adapter)
    yield env
    await asyncio.gather(*(c.close() for c in env.clients))
    await stop_backline(core, adapter)


def held_rows(live: Live, jid: str) -> list[str]:
    """The bodies held for ``jid`` as stored."""
    rows = live.port.store.rows("SELECT body FROM xmpp_held WHERE jid = ? ORDER BY seq", (jid,))
    return [str(row[0]) for row in rows]


async def chat_with_alice(live: Live) -> tuple[object, object]:
    alice = await live.user("alice")
    await live.ready("alice")
    return alice, await live.accepted_chat(alice, "hello, order 7")


async def test_offline_member_gets_held_messages_in_order_after_reconnect_int_2(
    live: Live,
) -> None:
    """Defect 1: texts for an offline alice are held (stored), noted elsewhere, then delivered."""
    out = live.console()
    alice, ann = await chat_with_alice(live)
    await alice.close()
    await live.until(lambda: live.presence("alice") == "logged_off", 3.0, "alice logged off")

    for n in (1, 2, 3):
        ann.say(SUPPORT, f"HELD-{n}")
    await live.until(lambda: len(held_rows(live, "alice@localhost")) >= 3, 3.0, "3 held")
    assert [b for b in held_rows(live, "alice@localhost") if "HELD" in b] == [
        f"{ann.jid.split('@')[0]}: HELD-1",
        f"{ann.jid.split('@')[0]}: HELD-2",
        f"{ann.jid.split('@')[0]}: HELD-3",
    ]
    await live.until(lambda: "You are offline on XMPP" in out.getvalue(), 3.0, "note")
    assert any(
        line.startswith("[@alice]") and "You are offline on XMPP" in line
        for line in out.getvalue().splitlines()
    )

    mark = alice.mark()
    await alice.connect()
    await alice.wait_body(I1, "HELD-3", after=mark)
    got = [b for b in alice.bodies(I1)[-10:] if "HELD-" in b]
    assert [b.rsplit(" ", 1)[1] for b in got] == ["HELD-1", "HELD-2", "HELD-3"]
    await live.until(lambda: held_rows(live, "alice@localhost") == [], 3.0, "held cleared")
    stored = {ix["id"]: ix for ix in live.state()["interactions"]}
    assert stored["i1"]["owner"] == "alice"  # back within the grace: still hers


async def test_member_away_past_grace_loses_the_chat_back_to_routing_int_2(quick: Live) -> None:
    """Defect 1: past routing.offline_grace bob is offered alice's chat; Ann is told neutrally."""
    live = quick
    alice, ann = await chat_with_alice(live)
    bob = await live.user("bob")
    await live.ready("bob")
    mark_ann = ann.mark()
    await alice.close()
    offer = await bob.wait_body(I1, "transfers", timeout=5.0)
    assert "accept i1" in offer.body
    await ann.wait_body(SUPPORT, "connecting you with another agent", after=mark_ann)
    bob.say(I1, "accept")
    await ann.wait_body(SUPPORT, "You are now with Bob Baker.", after=mark_ann)
    ann.say(SUPPORT, "still about order 7")
    await bob.wait_body(I1, "still about order 7")
    told = [m.body for m in ann.messages()[0:] if "alice" in m.body.lower()]
    assert not [t for t in told if "offline" in t.lower()]  # neutral: nothing about alice
    stored = {ix["id"]: ix for ix in live.state()["interactions"]}
    assert stored["i1"]["owner"] == "bob"
    assert {p["who"] for p in stored["i1"]["parties"] if p["connected"]} == {
        "@bob",
        f"customer:{ann.jid.split('@')[0]}",
    }
    mark = alice.mark()
    await alice.connect()  # what happened meanwhile arrives once she is back
    await alice.wait_body(I1, "went back to group:support", after=mark)
    await alice.wait_body(I1, "@bob took over i1", after=mark)


async def test_customer_client_disconnecting_ends_the_chat_and_tells_the_agent_int_2(
    quick: Live,
) -> None:
    """Defect 2: an ordinary disconnect (no directed presence) ends the chat within the grace."""
    live = quick
    alice, ann = await chat_with_alice(live)
    name = ann.jid.split("@")[0]
    await live.until(
        lambda: live.adapter.roster.we_see(SUPPORT, ann.jid), 3.0, "subscribed to the customer"
    )
    loop = asyncio.get_running_loop()
    gone = loop.time()
    await ann.close()
    await alice.wait_body(I1, f"{name} went offline", timeout=3.0)
    await alice.wait_body(I1, f"{name} left i1", timeout=3.0)
    assert loop.time() - gone < 2.5
    stored = {ix["id"]: ix for ix in live.state()["interactions"]}
    assert stored["i1"]["state"] in ("wrapup", "closed")
    assert not [p for p in stored["i1"]["parties"] if p["connected"]]
    # nothing is left ringing: alice can consult bob at once
    bob = await live.user("bob")
    await live.ready("bob")
    mark = alice.mark()
    alice.say(COMPONENT, "im @bob are you free?")
    reply = await alice.wait_body(COMPONENT, "IM i2", after=mark)
    assert "answering another offer" not in reply.body
    await bob.wait_body(f"i2@{COMPONENT}", "wants to IM")
