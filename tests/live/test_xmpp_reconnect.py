"""Prosody restarted mid-story: reconnect, held messages delivered once (ADP-4, MSG-2)."""

from __future__ import annotations

import asyncio

from adapters.xmpp.customers import customer_address
from bot.port import Port, Reply
from tests.live.conftest import Live
from tests.support.prosody import COMPONENT

BOT = COMPONENT
SUPPORT = f"support@{COMPONENT}"
I1 = f"i1@{COMPONENT}"


async def test_prosody_restart_reconnects_and_delivers_held_messages_once_adp_4_msg_2(
    live: Live,
) -> None:
    """ADP-4 / MSG-2: messages raised while Prosody is down arrive after it is back, once."""
    alice = await live.user("alice")
    await live.ready("alice")
    ann = await live.accepted_chat(alice, "hello before the outage")

    await asyncio.to_thread(live.prosody.stop)
    await live.until(lambda: "xmpp" in live.core.delivery.down, 5.0, "xmpp marked down")
    assert not live.adapter.connected

    # While XMPP is down: sam (as admin, on the console) broadcasts, and Ann writes over the
    # HTTP API. (alice's server logged her off when it stopped, so an IM would be refused.)
    reply: Reply = await Port(live.core, "console").command(
        "sam", "broadcast --to group:support HELD-BROADCAST"
    )
    assert reply.outcome == "ok" and "(ref" not in reply.text, reply
    await live.port.customer_said(customer_address(ann.jid), "HELD-CHAT")
    assert live.core.delivery.waiting, "messages for alice should wait for xmpp"

    await asyncio.to_thread(live.prosody.start)
    await asyncio.gather(alice.connect(), ann.connect())
    await live.until(lambda: live.adapter.connected, 10.0, "adapter reconnected")
    await alice.wait_body(I1, "HELD-CHAT", timeout=10.0)
    await alice.wait_body(BOT, "HELD-BROADCAST", mtype="headline", timeout=10.0)
    await live.until(lambda: "xmpp" not in live.core.delivery.down, 5.0, "xmpp marked up")
    await alice.wait_body(BOT, "xmpp is back", mtype="headline", timeout=5.0)
    notices = [m.body for m in alice.messages(BOT, mtype="headline")]
    assert any("xmpp is down" in n for n in notices)

    await asyncio.sleep(0.5)  # a quiet period: nothing arrives twice
    bodies = alice.bodies()
    assert len([b for b in bodies if "HELD-CHAT" in b]) == 1
    assert len([b for b in bodies if "HELD-BROADCAST" in b]) == 1
    assert len([n for n in alice.bodies(BOT, mtype="headline") if "xmpp is back" in n]) == 1
    assert live.core.delivery.waiting == [] and live.adapter.held == []

    # The story goes on over the new connection.
    ann.say(SUPPORT, "still there?")
    await alice.wait_body(I1, "still there?")
    alice.say(I1, "yes, back again")
    await ann.wait_body(SUPPORT, "Alice Anders: yes, back again")
