"""Issue 14, defects 3-7 and 9: XMPP as XMPP users expect it (ADP-4, INT-2).

Big replies split under ``xmpp.max_stanza``, subscriptions that survive logins, addresses that
name nothing, linking, receipts only once passed on, reply types and odd characters.
"""

from __future__ import annotations

import asyncio

import pytest
from slixmpp.exceptions import IqError

from adapters.xmpp.customers import customer_address
from bot.port import Port
from tests.live.conftest import Live
from tests.support.prosody import COMPONENT, MANIFEST, Client, Received, shipped_snippet

BOT = COMPONENT
SUPPORT = f"support@{COMPONENT}"
I1 = f"i1@{COMPONENT}"
NOWHERE = f"nosuchthing@{COMPONENT}"


def is_error(condition: str) -> object:
    return lambda r: r.type == "error" and condition in r.xml


async def test_prosody_runs_the_shipped_snippet_before_the_virtual_hosts_adp_4(live: Live) -> None:
    """Defect 6: the live server's config holds the manifest snippet, global options first."""
    config = live.prosody.config.read_text(encoding="utf-8")
    snippet = shipped_snippet(live.prosody.component_port, live.prosody.secret)
    assert snippet in config
    assert config.index(snippet) < config.index('\nVirtualHost "')
    assert "BEFORE your first VirtualHost" in MANIFEST.read_text(encoding="utf-8")
    assert live.adapter.connected  # the component port the snippet opens is the one we use


async def test_a_140_by_4kb_history_arrives_split_and_the_stream_stays_up_adp_4(
    live: Live,
) -> None:
    """Defect 3: a ~570 KB reply goes out in parts under 64 KiB; nobody sees xmpp go down."""
    alice = await live.user("alice")
    await live.ready("alice")
    ann = await live.accepted_chat(alice)
    address = customer_address(ann.jid)
    for n in range(140):
        await live.port.customer_said(address, f"L{n:03d} " + "x" * 4000)
    await alice.wait_body(I1, "L139 ", timeout=10.0)
    mark = alice.mark()
    alice.say(BOT, "history i1")
    await alice.wait_body(BOT, "L139 ", timeout=10.0, after=mark)
    parts = [r for r in alice.received[mark:] if r.kind == "message" and r.frm == BOT]
    assert len(parts) >= 9
    assert all(len(r.xml.encode()) <= 65536 for r in parts)
    text = "\n".join(r.body for r in parts)
    assert parts[0].body.startswith("History of i1:")
    assert all(f"L{n:03d} " in text for n in range(140))
    assert live.adapter.connected and "xmpp" not in live.core.delivery.down
    assert not [r for r in alice.received if "xmpp is down" in r.body]
    alice.say(BOT, "status")
    await alice.wait_body(BOT, "You are", after=mark)


async def test_second_login_keeps_the_subscription_both_and_unknown_addresses_error_adp_4(
    live: Live,
) -> None:
    """Defect 4: re-login keeps ``both``; addresses naming nothing answer item-not-found."""
    alice = await live.user("alice")
    await live.ready("alice")

    async def subscription() -> str:
        await alice.xmpp.get_roster(timeout=5)
        return str(alice.xmpp.client_roster[COMPONENT]["subscription"])

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while await subscription() != "both" and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert await subscription() == "both"
    await alice.close()
    await live.until(lambda: live.presence("alice") == "logged_off", 3.0)
    await alice.connect()
    await live.ready("alice")
    await asyncio.sleep(0.3)  # the probes of the login are answered by now
    assert await subscription() == "both"

    mark = alice.mark()
    alice.xmpp.send_presence(pto=NOWHERE, ptype="probe")
    probe = await alice.wait_for(is_error("item-not-found"), after=mark)
    assert probe.kind == "presence" and probe.frm == NOWHERE
    mark = alice.mark()
    alice.xmpp.send_presence(pto=NOWHERE, ptype="subscribe")
    await alice.wait_for(is_error("item-not-found"), after=mark)
    with pytest.raises(IqError) as disco:
        await alice.xmpp.plugin["xep_0030"].get_info(jid=NOWHERE, timeout=5)
    assert disco.value.iq["error"]["condition"] == "item-not-found"
    info = await alice.xmpp.plugin["xep_0030"].get_info(jid=SUPPORT, timeout=5)
    assert info["type"] == "result"
    presences = [r for r in alice.received if r.kind == "presence" and r.frm == COMPONENT]
    assert not [r for r in presences if r.type == "unsubscribed"]


async def test_linking_an_online_member_probes_their_presence_at_once_adp_4_dir_6(
    live: Live,
) -> None:
    """Defect 5: after ``link``, dana (online, silent) is ready without typing anything."""
    live.prosody.register("dana")
    dana = await live.user("dana")
    assert live.presence("dana") == "logged_off"
    sam: Port = Port(live.core, "console")
    reply = await sam.command("sam", "link @dana xmpp dana@localhost")
    assert reply.outcome == "ok", reply
    took = await live.until(lambda: live.presence("dana") == "ready", 2.0, "dana ready")
    assert took < 2.0
    await dana.wait_body(BOT, "linked to backline")
    assert not [
        r for r in dana.received if r.kind == "message" and r.frm == BOT and "status" in r.body
    ]


async def test_receipts_only_once_passed_on_and_the_agent_hears_of_refusals_adp_4(
    live: Live,
) -> None:
    """Defect 7: no receipt for what was refused; the owner hears what Ann could not send."""
    out = live.console()
    alice = await live.user("alice")
    await live.ready("alice")
    ann = await live.customer()

    def send(to: str, body: str) -> str:
        msg = ann.xmpp.make_message(mto=to, mbody=body, mtype="chat")
        msg["request_receipt"] = True
        msg.send()
        return str(msg["id"])

    def receipts(ids: str) -> list[Received]:
        return [r for r in ann.received if "urn:xmpp:receipts" in r.xml and ids in r.xml]

    lost = send(NOWHERE, "hello nowhere")
    await ann.wait_for(is_error("item-not-found"))
    taken = send(SUPPORT, "hello, order 8")
    await alice.wait_body(I1, "New chat from")
    await ann.wait_for(lambda r: "urn:xmpp:receipts" in r.xml and taken in r.xml)
    alice.say(I1, "accept")
    await ann.wait_body(SUPPORT, "joined.")
    mark = ann.mark()
    big = send(SUPPORT, "y" * 5000)
    await ann.wait_for(is_error("not-acceptable"), after=mark)
    await live.until(lambda: "could not be delivered" in out.getvalue(), 3.0, "agent told")
    notes = [line for line in out.getvalue().splitlines() if "could not be delivered" in line]
    assert notes and notes[0].startswith("[@alice]") and "i1" in notes[0]
    await alice.wait_body(BOT, "could not be delivered", mtype="headline")
    await asyncio.sleep(0.2)
    assert receipts(lost) == [] and receipts(big) == []
    assert len(receipts(taken)) == 1


async def test_reply_type_odd_characters_and_members_at_routing_addresses_adp_4(
    live: Live,
) -> None:
    """Defect 9: normal gets normal; NFKC and zero-width; alice is not offered her own chat."""
    alice = await live.user("alice")
    await live.ready("alice")
    mark = alice.mark()
    alice.say(BOT, "status", mtype="normal")
    reply = await alice.wait_body(BOT, "You are ready", after=mark, mtype="normal")
    assert reply.type == "normal"
    for typed in ("\uff53\uff54\uff41\uff54\uff55\uff53", "sta\u200btus", "\ufeffstatus"):
        mark = alice.mark()
        alice.say(BOT, typed)
        await alice.wait_body(BOT, "You are ready", after=mark)
    mark = alice.mark()
    alice.say(SUPPORT, "I am testing the queue")
    error = await alice.wait_for(is_error("not-allowed"), after=mark)
    assert error.frm == SUPPORT
    await asyncio.sleep(0.2)
    assert not [r for r in alice.received[mark:] if "New chat" in r.body]
    assert live.state()["interactions"] == []


async def test_text_xml_forbids_arrives_replaced_and_the_stream_stays_up_adp_4(
    live: Live,
) -> None:
    """A console member's NUL, C0 controls and markup reach XMPP as valid, escaped XML.

    One forbidden character in a stanza makes Prosody close the component stream for every
    member; they arrive as U+FFFD, markup as text, and the next message still gets through.
    """
    alice = await live.user("alice")
    await live.ready("alice")
    live.console()
    chen = Port(live.core, "console")
    await chen.command("chen", "im @alice hello")
    await alice.wait_body(I1, "wants to IM")
    alice.say(I1, "accept")
    await alice.wait_body(I1, "You joined i1")
    hostile = "a\x00b\x0bc\x1bd\ufffee <b>&amp;</b> \"q\" 'q' \U0001f600"
    await chen.command("chen", f"say i1 {hostile}")
    got = await alice.wait_body(I1, "<b>&amp;</b>")
    assert "a\ufffdb\ufffdc\ufffdd\ufffde <b>&amp;</b> \"q\" 'q' \U0001f600" in got.body
    await chen.command("chen", "say i1 still here")
    await alice.wait_body(I1, "still here")
    assert live.adapter.connected and "xmpp" not in live.core.delivery.down


async def test_client_helpers_are_bounded(live: Live) -> None:
    """The test clients' waits are bounded: a missing stanza is a TimeoutError, not a hang."""
    alice: Client = await live.user("alice")
    with pytest.raises(TimeoutError):
        await alice.wait_body(BOT, "never sent", timeout=0.1)
