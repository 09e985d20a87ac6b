"""Acceptance 2: IM and a consultation between a Matrix member and an XMPP member, with
edits relayed both ways (ADP-6, IM-1, IM-2, CON-2).

One core runs both adapters: alice is a matrix-nio user, chen a slixmpp user on the
session Prosody. An ``m.replace`` edit reaches XMPP as an XEP-0308 correction of the
stanza chen got for the original, and an XEP-0308 correction reaches Matrix as an
``m.replace`` of the event alice got; nothing is echoed to its author.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from adapters.xmpp import MIGRATIONS as XMPP_MIGRATIONS
from adapters.xmpp import XmppAdapter, XmppConfig
from bot.port import Port
from tests.live.matrix.conftest import People, accepted_chat
from tests.support.prosody import COMPONENT, Client, Prosody, Received
from tests.support.synapse import Backline

BOT = "@backline:localhost"


@pytest.fixture
async def xmpp(backline: Backline, prosody: Prosody) -> AsyncIterator[XmppAdapter]:
    """The XMPP component on the same core as the Matrix adapter."""
    assert backline.core is not None
    backline.core.store.migrate(XMPP_MIGRATIONS)
    settings = XmppConfig(
        enabled=True, jid=COMPONENT, secret=prosody.secret, port=prosody.component_port
    )
    adapter = XmppAdapter(Port(backline.core, "xmpp"), settings)
    backline.core.delivery.attach(adapter)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()
        backline.core.delivery.detach(adapter)


def stanza_id(received: Received) -> str:
    found = re.match(r"<message [^>]*\bid=['\"]([^'\"]+)['\"]", received.xml)
    assert found, received.xml
    return found.group(1)


def corrected_id(received: Received) -> str | None:
    found = re.search(r"<replace [^>]*id=['\"]([^'\"]+)['\"]", received.xml)
    return found.group(1) if found else None


def correct(client: Client, to: str, original: object, body: str) -> None:
    msg = client.xmpp.make_message(mto=to, mbody=body, mtype="chat")
    msg["replace"]["id"] = original["id"]  # type: ignore[index]
    msg.send()


async def test_im_across_matrix_and_xmpp_with_edits_both_ways_adp_6_im_2(
    backline: Backline, xmpp: XmppAdapter, prosody: Prosody, people: People
) -> None:
    """ADP-6 / IM-2: alice (Matrix) and chen (XMPP) talk in an IM; each side's edit reaches
    the other as an edit of the line they were shown, and nobody gets their own words back."""
    alice = await people("alice")
    desk = await alice.dm(BOT, "Your backline desk")
    await alice.send(desk, "ready")
    await alice.wait_for("You are ready", desk)
    chen = await Client.online("chen@localhost", prosody.c2s_port)
    try:
        chen.say(COMPONENT, "ready")
        await chen.wait_body(COMPONENT, "You are ready", timeout=10)
        await alice.send(desk, "im @chen HELLO-x01")
        await chen.wait_body(f"i1@{COMPONENT}", "HELLO-x01", timeout=10)
        chen.say(f"i1@{COMPONENT}", "accept")
        await alice.wait_for("accepted", timeout=10)
        room = await backline.joined_room(alice, "i1")

        typo = await alice.send(room, "TYPO-x02 teh answer")
        first = await chen.wait_body(f"i1@{COMPONENT}", "TYPO-x02", timeout=10)
        await alice.edit(room, typo, "FIXED-x03 the answer")
        fixed = await chen.wait_body(f"i1@{COMPONENT}", "FIXED-x03", timeout=10)
        assert "(edited)" not in fixed.body
        assert corrected_id(fixed) == stanza_id(first)  # XEP-0308 of the line chen saw

        sent = chen.say(f"i1@{COMPONENT}", "CHEN-x04 thanx")
        shown = await alice.wait_for("CHEN-x04", room)
        correct(chen, f"i1@{COMPONENT}", sent, "CHEN-x05 thanks")
        edit = await alice.wait_for("CHEN-x05", room)
        assert edit.sender == BOT
        relates = edit.source["content"]["m.relates_to"]
        assert relates == {"rel_type": "m.replace", "event_id": shown.event_id}
        new = edit.source["content"]["m.new_content"]["body"]
        assert new.endswith("CHEN-x05 thanks") and "(edited)" not in new

        await alice.send(room, "MARK-x06")
        await chen.wait_body(f"i1@{COMPONENT}", "MARK-x06", timeout=10)
        chen_got = chen.bodies(f"i1@{COMPONENT}")
        assert not [b for b in chen_got if "CHEN-x0" in b]  # chen's words not echoed
        alice_got = [r.body for r in alice.seen if r.sender != alice.user_id]
        assert not [b for b in alice_got if "TYPO-x02" in b or "FIXED-x03" in b]
    finally:
        await chen.close()


async def test_consultation_between_matrix_and_xmpp_stays_private_adp_6_con_2(
    backline: Backline, xmpp: XmppAdapter, prosody: Prosody, people: People
) -> None:
    """ADP-6 / CON-2: alice (Matrix) consults chen (XMPP) about a Matrix customer's chat;
    their texts cross platforms, an edit too, and the customer gets none of it."""
    story = await accepted_chat(backline, people, "hello FIRST-y01")
    alice, desk, ann, chat = story.alice, story.desk, story.customer, story.chat
    chen = await Client.online("chen@localhost", prosody.c2s_port)
    try:
        chen.say(COMPONENT, "ready")
        await chen.wait_body(COMPONENT, "You are ready", timeout=10)
        await alice.send(desk, "consult @chen")
        await chen.wait_body(f"i2@{COMPONENT}", "asks you to consult", timeout=10)
        chen.say(f"i2@{COMPONENT}", "accept")
        room = await backline.joined_room(alice, "i2")
        await alice.wait_for("accepted", timeout=10)
        secret = await alice.send(room, "SECRET-y02 refund?")
        await chen.wait_body(f"i2@{COMPONENT}", "SECRET-y02", timeout=10)
        await alice.edit(room, secret, "SECRET-y03 refund 15 EUR?")
        await chen.wait_body(f"i2@{COMPONENT}", "SECRET-y03", timeout=10)
        chen.say(f"i2@{COMPONENT}", "SECRET-y04 yes")
        await alice.wait_for("SECRET-y04", room)
        await alice.send(story.room, "PUBLIC-y05 refund on its way")
        await ann.wait_for("PUBLIC-y05", chat)
        assert [b for b in ann.bodies(chat) if "SECRET" in b] == []
    finally:
        await chen.close()
