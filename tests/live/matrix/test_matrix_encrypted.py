"""Acceptance 1, encrypted: alice's desk is an encrypted DM and the consultation room is
encrypted; alice and bob are matrix-nio clients with end-to-end encryption (ADP-3, CON-2).

A Matrix customer joins #support; alice accepts from her encrypted desk, consults bob in
an encrypted invite-only room of the two of them, and transfers; the customer never
receives consultation text and each room holds exactly the people the spec says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.live.matrix.conftest import People
from tests.live.matrix.test_matrix_story import joined
from tests.support.synapse import Backline, Person, Synapse, matrix_rules, unique

BOT = "@backline:localhost"
PUPPET = "@backline_route_support:localhost"
ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


@pytest.fixture
async def encrypting(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Backline]:
    """backline whose device is logged in, making encrypted interaction rooms."""
    running = Backline(synapse, tmp_path / "backline.db", matrix_rules(tmp_path))
    adapter = await running.start(encrypt_rooms=True)
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while not adapter.crypto.ready:
            assert not adapter.crypto.missing, adapter.crypto.missing
            assert asyncio.get_running_loop().time() < deadline, "crypto never started"
            await asyncio.sleep(0.05)
        yield running
    finally:
        await running.stop()


async def encrypted_desk(person: Person) -> str:
    made = await person.client.room_create(is_direct=True, invite=[BOT], initial_state=[ENCRYPTION])
    room = str(getattr(made, "room_id", ""))
    assert room, made
    await person.wait_for("Your backline desk", room, timeout=20)
    return room


async def encrypted_state(person: Person, room_id: str) -> str:
    answer = await person.client.room_get_state_event(room_id, "m.room.encryption")
    return str(getattr(answer, "content", {}).get("algorithm", ""))


async def test_encrypted_desk_and_consultation_story_adp_3_con_2_trf_1(
    encrypting: Backline, synapse: Synapse, people: People, tmp_path: Path
) -> None:
    """ADP-3 / CON-2 / TRF-1: the whole story with alice's DM and the consultation room
    encrypted; backline reads and writes both."""
    backline = encrypting
    alice = await Person.encrypted(synapse, "alice", tmp_path / "alice-store")
    bob = await Person.encrypted(synapse, "bob", tmp_path / "bob-store")
    people.made += [alice, bob]
    alice_desk = await encrypted_desk(alice)
    bob_desk = await encrypted_desk(bob)
    await alice.send(alice_desk, "ready")
    reply = await alice.wait_for("You are ready", alice_desk, timeout=20)
    assert reply.source["type"] == "m.room.message"  # decrypted by alice's client
    assert await encrypted_state(alice, alice_desk) == "m.megolm.v1.aes-sha2"

    ann = await people(unique("ann"))
    await ann.join("#support:localhost")
    chat = await ann.wait_invite()
    await ann.send(chat, "hello FIRST-e01")
    await alice.wait_for("FIRST-e01", alice_desk, timeout=20)
    await alice.send(alice_desk, "accept i1")
    await ann.wait_for("Alice Anders joined", chat)
    i1 = await backline.joined_room(alice, "i1")

    await bob.send(bob_desk, "ready")
    await bob.wait_for("You are ready", bob_desk, timeout=20)
    await alice.send(alice_desk, "consult @bob")
    await bob.wait_for("asks you to consult", bob_desk, timeout=20)
    await bob.send(bob_desk, "accept i2")
    i2 = await backline.joined_room(alice, "i2")
    assert await backline.joined_room(bob, "i2") == i2
    assert await encrypted_state(alice, i2) == "m.megolm.v1.aes-sha2"
    await alice.send(i2, "SECRET-e02 refund?")
    await bob.wait_for("SECRET-e02", i2, timeout=20)
    await bob.send(i2, "SECRET-e03 yes")
    await alice.wait_for("SECRET-e03", i2, timeout=20)
    assert await joined(alice, i2) == {alice.user_id, bob.user_id, BOT}

    await alice.send(i1, "!bl transfer")
    await ann.wait_for("You are now with Bob Baker", chat, timeout=20)
    assert await backline.joined_room(bob, "i1") == i1
    await bob.send(i1, "NEW-OWNER-e04 hi")
    await ann.wait_for("NEW-OWNER-e04", chat, timeout=20)
    await ann.send(chat, "CUSTOMER-e05 thanks")
    await bob.wait_for("CUSTOMER-e05", i1, timeout=20)
    assert [b for b in ann.bodies(chat) if "SECRET" in b] == []
    assert await joined(bob, i1) == {bob.user_id, BOT}
    assert await joined(ann, chat) == {ann.user_id, PUPPET}
