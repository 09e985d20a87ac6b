"""Interaction rooms follow the interaction (ADP-3, CNF-1): a conference invites the added
member into the room, a member who leaves is removed, the name says the state, and the
room is left when the interaction closes. Without crypto an encrypted DM gets a plain
answer saying backline cannot read it, never silence."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import aiohttp

from tests.live.matrix.conftest import People
from tests.live.matrix.test_matrix_story import desk, joined
from tests.support.synapse import Backline, Person, Synapse, matrix_rules, unique

BOT = "@backline:localhost"


async def named(person: Person, room_id: str, text: str, timeout: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while text not in person.room_name(room_id):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"room never named {text!r}: {person.room_name(room_id)!r}")
        await asyncio.sleep(0.05)
    return person.room_name(room_id)


async def until_joined(person: Person, room_id: str, expect: set[str]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while (found := await joined(person, room_id)) != expect:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{room_id} holds {found}, not {expect}")
        await asyncio.sleep(0.1)


async def test_conference_invites_leave_removes_close_archives_adp_3_cnf_1(
    backline: Backline, people: People
) -> None:
    """ADP-3 / CNF-1: bob is invited into i1's room by `conference`; alice is removed when
    she leaves; the bot leaves when i1 ends, the name saying it is closed."""
    alice, bob = await people("alice"), await people("bob")
    alice_desk, bob_desk = await desk(alice), await desk(bob)
    await alice.send(alice_desk, "ready")
    await alice.wait_for("You are ready", alice_desk)
    ann = await people(unique("ann"))
    await ann.join("#support:localhost")
    chat = await ann.wait_invite()
    await ann.send(chat, "hello FIRST-c01")
    await alice.wait_for("FIRST-c01", alice_desk)
    await alice.send(alice_desk, "accept i1")
    i1 = await backline.joined_room(alice, "i1")
    await named(alice, i1, "i1 · ")
    await bob.send(bob_desk, "ready")
    await bob.wait_for("You are ready", bob_desk)
    await alice.send(i1, "!bl conference @bob")
    await bob.wait_for("conference", bob_desk)
    await bob.send(bob_desk, "accept")
    assert await backline.joined_room(bob, "i1") == i1
    await until_joined(alice, i1, {alice.user_id, bob.user_id, BOT})
    await alice.send(i1, "BOTH-c02 hello both")
    await ann.wait_for("BOTH-c02", chat)
    await bob.wait_for("BOTH-c02", i1)  # in the room itself, not posted again by the bot
    assert [r.sender for r in bob.seen if "BOTH-c02" in r.body] == [alice.user_id]
    await alice.send(i1, "!bl leave")
    await until_joined(bob, i1, {bob.user_id, BOT})
    await bob.send(i1, "!bl end")
    await ann.wait_for("ended the chat", chat)
    await bob.send(bob_desk, "done i1")
    await bob.wait_for("done", bob_desk)
    await alice.send(alice_desk, "done i1")
    assert "(closed)" in await named(bob, i1, "(closed)")
    await until_joined(bob, i1, {bob.user_id})  # the bot left: the room is archived


async def test_an_encrypted_dm_is_answered_in_plain_words_when_crypto_is_off_adp_3(
    synapse: Synapse, people: People, tmp_path: Path
) -> None:
    """ADP-3: with no crypto (off here; the same when python-olm cannot load) alice's
    encrypted DM is answered there, plainly, saying why backline cannot read it."""
    backline = Backline(synapse, tmp_path / "backline.db", matrix_rules(tmp_path))
    adapter = await backline.start(encryption=False)
    try:
        assert adapter.crypto.missing == "end-to-end encryption is off in [matrix]"
        alice = await people("alice")
        encryption = {
            "type": "m.room.encryption",
            "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"},
        }
        made = await alice.client.room_create(
            is_direct=True, invite=[BOT], initial_state=[encryption]
        )
        room = str(getattr(made, "room_id", ""))
        assert room, made
        await alice.wait_for("Your backline desk", room)
        url = f"{synapse.url}/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/"
        ciphertext = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "sender_key": "k",
            "session_id": "s",
            "device_id": "TESTDEVICE",
            "ciphertext": "AwgAEnACg",
        }
        headers = {"Authorization": f"Bearer {alice.client.access_token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.put(url + secrets.token_hex(6), json=ciphertext, headers=headers) as answer,
        ):
            assert answer.status == 200, await answer.text()
        said = await alice.wait_for("end-to-end encrypted", room)
        assert said.sender == BOT and said.msgtype == "m.notice"
        assert "cannot read it here (end-to-end encryption is off in [matrix])" in said.body
    finally:
        await backline.stop()
