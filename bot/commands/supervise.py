"""Supervisor commands: ``monitor``, ``coach``, ``barge``, ``unmonitor`` (SUP-1..7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Member
from bot.errors import CommandError

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn


def _agent(core: Core, text: str) -> Member:
    found = core.directory.resolve(text)
    if not isinstance(found, Member):
        raise CommandError(f"Supervise a member, like @bob; {found.ref} is a {found.kind.value}.")
    return found


async def monitor(core: Core, turn: Turn) -> str:
    """Silently hear/see an agent's interaction, now or from their next one."""
    agent = _agent(core, turn.args[0])
    if len(turn.args) == 2 and turn.args[1].lower() != "next":
        raise CommandError("Usage: `monitor @agent [next]`.")
    next_ = len(turn.args) == 2
    return await core.engine.supervision.supervise(turn.me.id, agent, "monitor", next_=next_)


async def coach(core: Core, turn: Turn) -> str:
    """Whisper to an agent; the customer never hears it."""
    return await core.engine.supervision.supervise(turn.me.id, _agent(core, turn.args[0]), "coach")


async def barge(core: Core, turn: Turn) -> str:
    """Join an agent's interaction as a full party."""
    return await core.engine.supervision.supervise(turn.me.id, _agent(core, turn.args[0]), "barge")


async def unmonitor(core: Core, turn: Turn) -> str:
    """Stop following an agent's next interactions."""
    return await core.engine.supervision.unmonitor(turn.me.id, _agent(core, turn.args[0]))
