"""Live XMPP basics: commands by message, presence mapping, malformed input (ADP-4, DIR-5)."""

from __future__ import annotations

from tests.live.conftest import Live
from tests.support.prosody import COMPONENT

BOT = COMPONENT


async def test_commands_by_message_and_presence_makes_ready_adp_4(live: Live) -> None:
    """ADP-4: a member's XMPP presence makes them ready; commands to the bot JID get replies."""
    alice = await live.user("alice")
    await live.ready("alice")
    mark = alice.mark()
    alice.say(BOT, "status")
    reply = await alice.wait_body(BOT, "You are ready", after=mark)
    assert reply.type == "chat"
    alice.say(f"bot@{COMPONENT}", "groups")
    await alice.wait_body(f"bot@{COMPONENT}", "group:support Support — 1 ready (now)", after=mark)
    assert live.presence("alice") == "ready"


async def test_xmpp_presence_changes_group_counts_within_1s_adp_4_grp_2(live: Live) -> None:
    """ADP-4 / GRP-2 / DIR-5: away, dnd, chat and going offline change support's count < 1 s."""
    alice = await live.user("alice")
    bob = await live.user("bob")
    await live.ready("alice", "bob")
    count = lambda: live.available("group:support")  # noqa: E731
    assert count() == 2
    steps = [
        ("away", 1, "not_ready"),
        ("dnd", 1, "not_ready"),
        ("chat", 2, "ready"),
        ("xa", 1, "not_ready"),
    ]
    for show, expected, state in steps:
        alice.xmpp.send_presence(pshow=show)
        took = await live.until(lambda e=expected: count() == e, 1.0, f"{show} → {expected}")
        assert took < 1.0
        assert live.presence("alice") == state
    mark = bob.mark()
    bob.say(BOT, "groups")
    await bob.wait_body(BOT, "group:support Support — 1 ready (now)", after=mark)
    await alice.close()
    await live.until(lambda: live.presence("alice") == "logged_off", 1.0)
    assert count() == 1


async def test_malformed_stanzas_and_unknown_commands_get_clear_errors_adp_4_ops_3(
    live: Live,
) -> None:
    """ADP-4 / OPS-3: unknown commands, group chats, oversized and misaddressed messages."""
    alice = await live.user("alice")
    await live.ready("alice")
    stranger = await live.customer()
    mark = alice.mark()
    alice.say(BOT, "redy")
    reply = await alice.wait_body(BOT, "Unknown command 'redy'", after=mark)
    assert "`ready`" in reply.body and "(ref " in reply.body
    alice.say(BOT, "   ")
    await alice.wait_body(BOT, "Type a command", after=mark)
    alice.say(f"i999@{COMPONENT}", "hello?")
    await alice.wait_body(f"i999@{COMPONENT}", "i999", after=mark)
    alice.say(BOT, "status", mtype="groupchat")
    error = await alice.wait_for(lambda r: r.type == "error", after=mark)
    assert "bad-request" in error.xml and "does not read group chats" in error.xml
    mark = alice.mark()
    alice.say(BOT, "x" * 5000)
    error = await alice.wait_for(lambda r: r.type == "error", after=mark)
    assert "not-acceptable" in error.xml and "at most 4000" in error.xml
    # a JID nobody linked gets told who to ask; a routing address that names nothing is an
    # item-not-found stanza error (issue 14, defect 9), not console advice
    stranger.say(BOT, "status")
    await stranger.wait_body(BOT, "I don't know who")
    mark = stranger.mark()
    stranger.say(f"nosuchqueue@{COMPONENT}", "hello")
    error = await stranger.wait_for(lambda r: r.type == "error", after=mark)
    assert error.frm == f"nosuchqueue@{COMPONENT}" and "item-not-found" in error.xml
    assert not [r for r in stranger.received[mark:] if r.body.startswith("Sorry")]
    stranger.say(f"i1@{COMPONENT}", "let me in")
    await stranger.wait_body(f"i1@{COMPONENT}", "I don't know who")
    # the adapter survived all of it
    mark = alice.mark()
    alice.say(BOT, "status")
    await alice.wait_body(BOT, "You are ready", after=mark)


async def test_receipts_and_bodiless_messages_adp_4(live: Live) -> None:
    """ADP-4: a receipt request is acknowledged (XEP-0184); chat states alone are ignored."""
    alice = await live.user("alice")
    await live.ready("alice")
    mark = alice.mark()
    msg = alice.xmpp.make_message(mto=BOT, mbody="status", mtype="chat")
    msg["request_receipt"] = True
    msg.send()
    receipt = await alice.wait_for(lambda r: "urn:xmpp:receipts" in r.xml, after=mark)
    assert msg["id"] in receipt.xml and receipt.frm == BOT
    composing = alice.xmpp.make_message(mto=BOT, mtype="chat")
    composing["chat_state"] = "composing"
    composing.send()
    alice.say(BOT, "status")
    await alice.wait_body(BOT, "You are ready", after=mark)
    errors = [r for r in alice.received[mark:] if r.type == "error"]
    assert errors == []
