"""Issue 10, acceptance 3: ``backline run`` killed with SIGKILL and restarted (INT-2, ADP-4).

Two customers with the same local part on two VirtualHosts (``carol@localhost``,
``carol@b.localhost``) chat to ``support@backline.localhost``; alice takes one, bob the other.
After a SIGKILL and a fresh start on the same data, each agent's next reply reaches their own
customer without the customer writing first, and each customer's next text reaches only their
own agent. Every assertion is on what a real slixmpp client received, or on the stored state.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.state import snapshot
from bot.storage import Store
from tests.live.backline_process import BacklineProcess
from tests.support.prosody import COMPONENT, DOMAIN, OTHER_DOMAIN, Client, Prosody, Received

BOT = COMPONENT
SUPPORT = f"support@{COMPONENT}"
I1, I2 = f"i1@{COMPONENT}", f"i2@{COMPONENT}"
START_TIMEOUT = 20.0


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    """Clients a test connects; all closed at the end."""
    opened: list[Client] = []
    yield opened
    await asyncio.gather(*(c.close() for c in opened))


async def online(prosody: Prosody, opened: list[Client], name: str, domain: str) -> Client:
    """A registered, connected user."""
    client = await Client.online(prosody.register(name, domain=domain), prosody.c2s_port)
    opened.append(client)
    return client


async def answered(client: Client, expect: str, backline: BacklineProcess) -> Received:
    """Type ``status`` to the bot until the reply contains ``expect`` (backline may be starting)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while True:
        mark = client.mark()
        client.say(BOT, "status")
        try:
            return await client.wait_body(BOT, expect, timeout=0.5, after=mark)
        except TimeoutError:
            if loop.time() > deadline:
                raise AssertionError(
                    f"{client.jid} got no '{expect}' in {START_TIMEOUT}s:\n{backline.tail()}"
                ) from None


async def accepted(customer: Client, agent: Client, contact: str, line: str) -> None:
    """The customer opens a chat, the agent accepts it in its contact and hears ``line``."""
    customer.say(SUPPORT, f"hello from {customer.jid}")
    await agent.wait_body(contact, "New chat from")
    agent.say(contact, "accept")
    await customer.wait_body(SUPPORT, "joined.")
    customer.say(SUPPORT, line)
    await agent.wait_body(contact, line)


def stored_addresses(database: Path) -> set[tuple[str, str, str, str]]:
    """The address book as stored: ``(platform, address, name, via)``."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT platform, address, name, via FROM addresses").fetchall()
    return {tuple(row) for row in rows}


def texts(client: Client, frm: str, after: int = 0) -> list[str]:
    """Bodies ``client`` received from bare ``frm`` since index ``after``."""
    return [
        r.body
        for r in client.received[after:]
        if r.kind == "message" and r.frm.split("/")[0] == frm
    ]


async def test_sigkill_restart_keeps_same_local_part_customers_with_their_agents_int_2(
    prosody: Prosody, backline: BacklineProcess, clients: list[Client]
) -> None:
    """Acceptance 3: after SIGKILL + restart nobody is cross-wired and replies need no re-write."""
    alice = await online(prosody, clients, "alice", DOMAIN)
    backline.start()
    await answered(alice, "You are ready", backline)
    carol_a = await online(prosody, clients, "carol", DOMAIN)
    carol_b = await online(prosody, clients, "carol", OTHER_DOMAIN)
    assert (carol_a.jid, carol_b.jid) == ("carol@localhost", "carol@b.localhost")

    # carol@localhost is alice's; then alice steps away so carol@b.localhost's chat goes to bob
    await accepted(carol_a, alice, I1, "A-BEFORE")
    alice.xmpp.send_presence(pshow="away")
    bob = await online(prosody, clients, "bob", DOMAIN)
    await answered(bob, "You are ready", backline)
    await accepted(carol_b, bob, I2, "B-BEFORE")

    backline.kill()
    assert stored_addresses(backline.database) == {
        ("xmpp", "carol@localhost", "carol", SUPPORT),
        ("xmpp", "carol@b.localhost", "carol2", SUPPORT),
    }
    marks = {c.jid: c.mark() for c in (alice, bob, carol_a, carol_b)}
    backline.start()
    await answered(alice, "You are", backline)

    # the agents write first: each reply reaches their own customer, from support@
    alice.say(I1, "ALICE-AFTER-RESTART")
    bob.say(I2, "BOB-AFTER-RESTART")
    got_a = await carol_a.wait_body(SUPPORT, "ALICE-AFTER-RESTART", after=marks[carol_a.jid])
    got_b = await carol_b.wait_body(SUPPORT, "BOB-AFTER-RESTART", after=marks[carol_b.jid])
    assert got_a.body == "Alice Anders: ALICE-AFTER-RESTART"
    assert got_b.body.endswith(": BOB-AFTER-RESTART") and "Alice" not in got_b.body

    # then the customers: each card number reaches only their own agent
    carol_a.say(SUPPORT, "CARD-A 4111 1111 1111 1111")
    carol_b.say(SUPPORT, "CARD-B 5500 0000 0000 0004")
    await alice.wait_body(I1, "CARD-A", after=marks[alice.jid])
    await bob.wait_body(I2, "CARD-B", after=marks[bob.jid])
    await asyncio.sleep(0.5)  # a quiet period: anything misrouted would have arrived

    everything = {c.jid: " ".join(c.bodies()) for c in (alice, bob, carol_a, carol_b)}
    assert "CARD-B" not in everything[alice.jid] and "B-BEFORE" not in everything[alice.jid]
    assert "CARD-A" not in everything[bob.jid] and "A-BEFORE" not in everything[bob.jid]
    assert "BOB-AFTER-RESTART" not in everything[carol_a.jid]
    assert "ALICE-AFTER-RESTART" not in everything[carol_b.jid]
    for carol in (carol_a, carol_b):  # only ever from the routing address, and no new chat
        assert {r.frm.split("/")[0] for r in carol.messages()} == {SUPPORT}
        after = texts(carol, SUPPORT, marks[carol.jid])
        assert not [t for t in after if "thanks for getting in touch" in t], after
    for agent in (alice, bob):
        after = texts(agent, BOT, marks[agent.jid]) + texts(agent, I1, marks[agent.jid])
        assert not [t for t in after if "New chat from" in t or "(ref " in t], after

    assert backline.stop() == 0, backline.tail()
    store = Store(backline.database)
    try:
        stored = {ix["id"]: ix for ix in snapshot(store)["interactions"]}
    finally:
        store.close()
    assert set(stored) == {"i1", "i2"}
    for iid, agent, customer in (
        ("i1", "alice", "customer:carol"),
        ("i2", "bob", "customer:carol2"),
    ):
        assert (stored[iid]["owner"], stored[iid]["state"]) == (agent, "active")
        assert {p["who"] for p in stored[iid]["parties"] if p["connected"]} == {
            f"@{agent}",
            customer,
        }
