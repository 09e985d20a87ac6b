"""Acceptance 1 over real Matrix: a customer at #support, alice accepts, consults bob in a
private room, transfers to him (ADP-3, CON-2, TRF-1)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.live.matrix.conftest import People
from tests.support.synapse import Backline, Person, unique

BOT = "@backline:localhost"
PUPPET = "@backline_route_support:localhost"
WAIT = 15.0


async def desk(person: Person) -> str:
    """The person's DM with the bot, once the bot has joined it."""
    return await person.dm(BOT, "Your backline desk")


async def until(backline: Backline, what: str, check: Any) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        state = backline.state()
        if check(state):
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never true: {what}; state: {state}")
        await asyncio.sleep(0.05)


def interaction(state: dict[str, Any], iid: str) -> dict[str, Any]:
    return next(ix for ix in state["interactions"] if ix["id"] == iid)


async def joined(person: Person, room_id: str) -> set[str]:
    answer = await person.client.joined_members(room_id)
    return {m.user_id for m in getattr(answer, "members", [])}


async def test_customer_at_support_consult_and_transfer_over_matrix_adp_3_con_2_trf_1(
    backline: Backline, people: People
) -> None:
    """ADP-3 / CON-2 / TRF-1: a Matrix customer joins #support and is invited into a private
    chat; alice accepts, consults bob in an invite-only room of the two of them, and
    transfers; the customer never receives consultation text, and each room holds exactly
    the people the spec says."""
    alice, bob = await people("alice"), await people("bob")
    alice_desk, bob_desk = await desk(alice), await desk(bob)
    await alice.send(alice_desk, "ready")
    await alice.wait_for("You are ready", alice_desk)

    ann = await people(unique("ann"))
    lobby = await ann.join("#support:localhost")
    chat = await ann.wait_invite()
    assert chat != lobby
    assert await joined(ann, chat) == {ann.user_id, PUPPET}
    await ann.send(chat, "hello FIRST-s01 my order is late")
    offer = await alice.wait_for("FIRST-s01", alice_desk)
    assert offer.body.startswith("(i1) New chat from")

    await alice.send(alice_desk, "accept i1")
    await alice.wait_for("You have i1", alice_desk)
    await ann.wait_for("Alice Anders joined", chat)
    i1 = await backline.joined_room(alice, "i1")
    assert await joined(alice, i1) == {alice.user_id, BOT}
    await alice.send(i1, "AGENT-s02 let me check")
    await ann.wait_for("AGENT-s02", chat)

    await bob.send(bob_desk, "ready")
    await bob.wait_for("You are ready", bob_desk)
    await alice.send(i1, "!bl consult @bob")
    await bob.wait_for("asks you to consult", bob_desk)
    await bob.send(bob_desk, "accept i2")
    i2_alice = await backline.joined_room(alice, "i2")
    i2_bob = await backline.joined_room(bob, "i2")
    assert i2_alice == i2_bob
    await alice.send(i2_alice, "SECRET-s03 refund?")
    await bob.wait_for("SECRET-s03", i2_bob)
    await bob.send(i2_bob, "SECRET-s04 yes")
    await alice.wait_for("SECRET-s04", i2_alice)
    assert await joined(alice, i2_alice) == {alice.user_id, bob.user_id, BOT}
    join_rule = await alice.client.room_get_state_event(i2_alice, "m.room.join_rules")
    assert join_rule.content["join_rule"] == "invite"

    await alice.send(i1, "!bl transfer")
    await ann.wait_for("You are now with Bob Baker", chat)
    await until(backline, "bob owns i1", lambda s: interaction(s, "i1")["owner"] == "bob")
    i1_bob = await backline.joined_room(bob, "i1")
    assert i1_bob == i1
    await bob.send(i1, "NEW-OWNER-s05 hi")
    await ann.wait_for("NEW-OWNER-s05", chat)
    await ann.send(chat, "CUSTOMER-s06 thanks")
    await bob.wait_for("CUSTOMER-s06", i1)

    assert [b for b in ann.bodies(chat) if "SECRET" in b] == []
    assert await joined(bob, i1) == {bob.user_id, BOT}  # alice's part is over: removed
    assert {r.sender for r in ann.seen if r.room_id == chat} == {ann.user_id, PUPPET}
