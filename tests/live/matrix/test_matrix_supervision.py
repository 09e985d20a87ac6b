"""Supervisors over real Matrix (SUP-1…4): a read-only mirror room for `monitor`, a whisper
room for `coach`, a seat in the interaction's room for `barge`, the mirror gone after."""

from __future__ import annotations

import asyncio

from tests.live.matrix.conftest import People, accepted_chat
from tests.live.matrix.test_matrix_rooms import named, until_joined
from tests.live.matrix.test_matrix_story import desk, joined
from tests.support.synapse import Backline, Person

BOT = "@backline:localhost"
PUPPET = "@backline_route_support:localhost"


async def mirror_of(backline: Backline, sam: Person, iid: str = "i1", old: str = "") -> str:
    """sam's mirror of ``iid`` (other than ``old``), once he has joined it."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        room_id = backline.room_id(f"mirror:{iid}:{sam.user_id}")
        if room_id is not None and room_id != old and room_id in sam.invited:
            return room_id
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"sam never joined a mirror of {iid} ({room_id})")
        await asyncio.sleep(0.05)


async def refused(sam: Person, room_id: str, text: str) -> str:
    """What the homeserver answered sam's attempt to write ``text`` in ``room_id``."""
    content = {"msgtype": "m.text", "body": text}
    answer = await sam.client.room_send(room_id, "m.room.message", content)
    assert getattr(answer, "event_id", None) is None, f"sam could write: {answer}"
    return str(getattr(answer, "status_code", answer))


async def gone(sam: Person, room_id: str) -> None:
    """sam is no longer in ``room_id``, and nor is the bot."""
    deadline = asyncio.get_running_loop().time() + 10
    while (found := await joined(sam, room_id)) - {BOT} or BOT in found:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{room_id} still holds {found}")
        await asyncio.sleep(0.1)


async def test_monitor_mirror_coach_whispers_barge_joins_sup_1_sup_2_sup_3_sup_4(
    backline: Backline, people: People
) -> None:
    """SUP-1…4: sam monitors alice from a mirror where he reads both sides and cannot
    write; coaching, his words there reach alice only; barging, he is in i1's room and
    heard by the customer; his mirror is removed."""
    chat = await accepted_chat(backline, people, "hello FIRST-v01")
    alice, ann = chat.alice, chat.customer
    shown = ann.user_id[1:].split(":", 1)[0]  # the customer's name in backline
    sam = await people("sam")
    sam_desk = await desk(sam)

    # SUP-1: monitor: a read-only mirror named for what it is, both sides live in it.
    await sam.send(sam_desk, "monitor @alice")
    mirror = await mirror_of(backline, sam)
    assert await named(sam, mirror, "i1 · monitoring alice") == "i1 · monitoring alice"
    await until_joined(sam, mirror, {BOT, sam.user_id})
    await ann.send(chat.chat, "FROM-ANN-v02")
    await alice.send(chat.room, "FROM-ALICE-v03")
    await sam.wait_for("You are monitoring @alice on i1", sam_desk)  # the reply
    await sam.wait_for(f"{shown}: FROM-ANN-v02", mirror)
    await sam.wait_for("@alice: FROM-ALICE-v03", mirror)
    await ann.wait_for("FROM-ALICE-v03", chat.chat)
    assert await refused(sam, mirror, "SILENT-v04") == "M_FORBIDDEN"
    await asyncio.sleep(0.5)
    for person in (alice, ann):
        assert [b for b in person.bodies() if "SILENT-v04" in b or "sam" in b.lower()] == []
    assert await joined(alice, chat.room) == {BOT, alice.user_id}
    assert await joined(ann, chat.chat) == {ann.user_id, PUPPET}

    # SUP-2: coach: the same room becomes a whisper room; alice alone hears sam.
    await sam.send(sam_desk, "coach @alice")
    assert await named(sam, mirror, "i1 · coaching alice") == "i1 · coaching alice"
    await sam.wait_for("You are coaching @alice", timeout=10)
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # the new power levels reach sam's client a moment after the name
        answer = await sam.client.room_send(
            mirror, "m.room.message", {"msgtype": "m.text", "body": "WHISPER-v05 offer 10%"}
        )
        if getattr(answer, "event_id", None):
            break
        assert asyncio.get_running_loop().time() < deadline, f"sam cannot whisper: {answer}"
        await asyncio.sleep(0.2)
    whisper = await alice.wait_for("WHISPER-v05", chat.room)
    assert whisper.body == "(whisper) @sam: WHISPER-v05 offer 10%"
    await ann.send(chat.chat, "FROM-ANN-v06")
    await sam.wait_for(f"{shown}: FROM-ANN-v06", mirror)
    await alice.wait_for("FROM-ANN-v06", chat.room)
    assert [b for b in ann.bodies() if "WHISPER" in b] == []
    echoed = [r.body for r in sam.seen if r.room_id == mirror and r.sender == BOT]
    assert [b for b in echoed if "WHISPER-v05" in b] == []  # not posted back to sam

    # SUP-3 / SUP-4: barge: sam is invited into i1's room; the mirror is removed.
    await sam.send(mirror, "!bl barge @alice")
    assert await backline.joined_room(sam, "i1") == chat.room
    await until_joined(sam, chat.room, {BOT, alice.user_id, sam.user_id})
    await gone(sam, mirror)
    await sam.send(chat.room, "FROM-SAM-v07 hello, I am the supervisor")
    await ann.wait_for("FROM-SAM-v07", chat.chat)
    await alice.wait_for("FROM-SAM-v07", chat.room)
    assert backline.room_id(f"mirror:i1:{sam.user_id}") == mirror  # kept, closed


async def test_leaving_or_closing_removes_the_mirror_sup_1(
    backline: Backline, people: People
) -> None:
    """SUP-1: the mirror goes when the supervisor stops, and when the interaction closes;
    what was refused in it (a monitor writing) reached nobody."""
    chat = await accepted_chat(backline, people, "hello FIRST-w01")
    alice, ann = chat.alice, chat.customer
    sam = await people("sam")
    sam_desk = await desk(sam)
    await sam.send(sam_desk, "monitor @alice")
    mirror = await mirror_of(backline, sam)
    await sam.send(sam_desk, "leave i1")  # a monitor cannot write in the mirror
    await gone(sam, mirror)

    await sam.send(sam_desk, "monitor @alice")
    again = await mirror_of(backline, sam, old=mirror)  # a new room: the old one was left
    await until_joined(sam, again, {BOT, sam.user_id})
    await ann.send(chat.chat, "bye")
    await alice.wait_for("left", chat.room)
    await alice.send(chat.room, "done")
    await gone(sam, again)
    assert [b for b in alice.bodies() + ann.bodies() if "sam" in b.lower()] == []
