"""Acceptance 4: Synapse restarted mid-story, backline SIGKILLed mid-story (ADP-3, MSG-2).

While Synapse is down, what backline has for a member waits (retried with backoff), the
member is told on their other platform that Matrix is down, and once Synapse is back each
held message arrives exactly once. After a SIGKILL of ``backline run`` the rooms and the
routing puppet's chat are reused, never made again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.live.matrix.conftest import People
from tests.support.synapse import Backline, BacklineRun, Synapse, matrix_rules, unique

BOT = "@backline:localhost"
WAIT = 20.0


async def console_shows(backline: Backline, member: str, text: str) -> list[str]:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        lines = backline.console_lines(member)
        if any(text in line for line in lines):
            return lines
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the console never showed @{member} {text!r}: {lines}")
        await asyncio.sleep(0.05)


async def test_synapse_restart_holds_messages_and_delivers_them_once_msg_2(
    backline: Backline, synapse: Synapse, people: People
) -> None:
    """MSG-2: chen (console) IMs alice and sam broadcasts to her while Synapse is down:
    alice hears on the console that Matrix is down, and gets both once, in order, when
    Synapse is back."""
    alice = await people("alice")
    desk = await alice.dm(BOT, "Your backline desk")
    await alice.send(desk, "ready")
    await alice.wait_for("You are ready", desk)
    assert backline.console is not None
    await backline.console.type("chen", "ready")
    synapse.stop()
    try:
        await backline.console.type("chen", "im @alice HELD-r01 during the outage")
        await backline.console.type("sam", "broadcast --to @alice HELD-r02 still down")
        await console_shows(backline, "alice", "matrix is down")
        assert backline.adapter is not None and backline.adapter.health() == "reconnecting"
    finally:
        synapse.start()
    await alice.wait_for("HELD-r02", desk, timeout=WAIT)
    await backline.console.type("sam", "broadcast --to @alice MARK-r03 after")
    await alice.wait_for("MARK-r03", desk, timeout=WAIT)
    bodies = alice.bodies(desk)
    assert len([b for b in bodies if "HELD-r01" in b]) == 1
    assert len([b for b in bodies if "HELD-r02" in b]) == 1
    first = next(i for i, b in enumerate(bodies) if "HELD-r01" in b)
    second = next(i for i, b in enumerate(bodies) if "HELD-r02" in b)
    assert first < second
    await console_shows(backline, "alice", "matrix is back")
    assert backline.adapter.health() == "up"


def stored_rooms(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as conn:
        return dict(conn.execute("SELECT key, room_id FROM matrix_rooms").fetchall())


async def test_sigkill_restart_reuses_rooms_and_puppets_adp_3(
    synapse: Synapse, people: People, tmp_path: Path
) -> None:
    """ADP-3: `backline run` is SIGKILLed with a chat live; after the restart alice writes
    in the same i1 room and the customer gets it in the same chat from the same puppet;
    no room is made again."""
    run = BacklineRun(tmp_path, synapse, synapse.as_port, rules=matrix_rules(tmp_path))
    run.start()
    try:
        alice = await people("alice")
        desk = await alice.dm(BOT, "Your backline desk")
        await alice.send(desk, "ready")
        await alice.wait_for("You are ready", desk)
        ann = await people(unique("ann"))
        await ann.join("#support:localhost")
        chat = await ann.wait_invite()
        await ann.send(chat, "hello FIRST-k01")
        await alice.wait_for("FIRST-k01", desk)
        await alice.send(desk, "accept i1")
        await ann.wait_for("joined", chat)
        before = stored_rooms(run.database)
        i1 = before["ix:i1"]
        await alice.wait_for("You have i1", desk)
        while i1 not in alice.invited:
            await asyncio.sleep(0.05)
        run.kill()
        run.start()
        await alice.send(i1, "AFTER-KILL-k02 still here")
        got = await ann.wait_for("AFTER-KILL-k02", chat, timeout=WAIT)
        assert got.sender == "@backline_route_support:localhost"
        await ann.send(chat, "CUSTOMER-k03 good")
        await alice.wait_for("CUSTOMER-k03", i1, timeout=WAIT)
        assert stored_rooms(run.database) == before
        assert len(alice.invited) == 1  # no new room for i1
    except BaseException:
        print(run.tail())
        raise
    finally:
        run.stop()
