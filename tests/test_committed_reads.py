"""Issue 12: HTTP reads see committed state only, never a transaction that then rolls back.

A command changes memory (alice ready, a chat i1 offered to her), then waits — as a
transitions trigger or a handler may — and fails. GETs sent meanwhile must not show i1 or
alice's availability, then or after the rollback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bot.core import Core
from bot.directory.presence import PresenceState
from bot.dispatch.table import CommandSpec, CommandTable
from bot.dispatch.turn import Turn
from bot.events import Command
from bot.state import snapshot
from tests.test_http import sample


class Gate:
    """Work that changes memory, signals it, waits to be released, then fails."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.changed = asyncio.Event()
        self.release = asyncio.Event()

    async def change_then_fail(self) -> str:
        core = self.core
        core.directory.set_presence("alice", PresenceState.READY)
        await core.engine.customers.arrive("chat", "Ann", "group:support", "Hello")
        self.changed.set()
        await self.release.wait()  # the loop runs other tasks here, as inside a trigger
        raise RuntimeError("the command fails after changing memory")


def as_command(core: Core, gate: Gate) -> Callable[[], Awaitable[object]]:
    """The gate as a member's command (through ``Core.handle`` and its pipeline)."""

    async def explode(core: Core, turn: Turn) -> str:
        return await gate.change_then_fail()

    spec = CommandSpec("explode", "explode", "change memory, then fail", explode)
    core.commands = CommandTable([*core.commands.specs, spec])
    return lambda: core.handle(Command("console", "alice", "explode"))


def as_customer_work(core: Core, gate: Gate) -> Callable[[], Awaitable[object]]:
    """The gate as work that is not a command (a customer arriving, a timer: ``Core.act``)."""
    return lambda: core.act(gate.change_then_fail)


@pytest.mark.parametrize("way", [as_command, as_customer_work])
async def test_reads_during_a_failing_transaction_never_see_its_changes(
    served: tuple[TestClient, Core], way: Callable[[Core, Gate], Callable[[], Awaitable[object]]]
) -> None:
    client, core = served
    gate = Gate(core)
    before = snapshot(core.store)
    work = asyncio.create_task(way(core, gate)())
    await gate.changed.wait()
    assert "i1" in core.engine.live  # memory holds the change a lock-free read would show
    assert core.directory.counts()["group:support"] == 1

    reads = [
        asyncio.create_task(client.get(path))
        for path in ("/api/interactions/i1", "/metrics", "/healthz")
    ]
    await asyncio.wait(reads, timeout=0.3)  # whatever answers meanwhile is checked too
    gate.release.set()
    if way is as_command:
        turn = await work
        assert isinstance(turn, Turn)
        assert turn.outcome == "error"
    else:
        with pytest.raises(RuntimeError, match="fails after changing memory"):
            await work
    interaction, metrics, health = [await r for r in reads]

    assert interaction.status == 404
    assert await interaction.json() == {"error": "no interaction i1"}
    text = await metrics.text()
    assert sample(text, "backline_group_available", group="group:support") == 0.0
    assert health.status == 200
    assert (await health.json())["members"] == 8
    # and the rollback itself: neither stored nor in memory
    assert snapshot(core.store) == before
    assert "i1" not in core.engine.live
    assert core.directory.counts()["group:support"] == 0


async def test_a_read_after_a_commit_sees_it(served: tuple[TestClient, Core]) -> None:
    """The lock delays reads only while a transaction is open."""
    client, core = served
    await core.handle(Command("console", "alice", "ready"))
    text = await (await client.get("/metrics")).text()
    assert sample(text, "backline_group_available", group="group:support") == 1.0
