"""Presence commands: ``ready``, ``notready``, ``aftercall``, ``logout``, ``status`` (DIR-5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, Member
from bot.directory.presence import PresenceState
from bot.errors import CommandError
from bot.views import describe_group, describe_member

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn


async def ready(core: Core, turn: Turn) -> str:
    """Set yourself ready for interactions."""
    presence = core.directory.set_presence(turn.me.id, PresenceState.READY)
    if presence.busy:
        return "You are ready; you stay busy until your current interactions end."
    return "You are ready."


async def notready(core: Core, turn: Turn) -> str:
    """Set yourself not ready, with an optional reason from the policy's list."""
    reason = turn.rest.strip().lower() or None
    allowed = core.policy.presence.not_ready_reasons
    if reason is not None and allowed and reason not in allowed:
        raise CommandError(
            f"'{reason}' is not a not-ready reason here. Use one of: {', '.join(allowed)}."
        )
    core.directory.set_presence(turn.me.id, PresenceState.NOT_READY, reason)
    return f"You are not ready ({reason})." if reason else "You are not ready."


async def aftercall(core: Core, turn: Turn) -> str:
    """Set yourself to after-call work."""
    return core.engine.lifecycle.enter_after_call_work(turn.me.id)


async def logout(core: Core, turn: Turn) -> str:
    """Log off: you are offered nothing until you are ready again."""
    core.directory.set_presence(turn.me.id, PresenceState.LOGGED_OFF)
    return "You are logged off."


async def status(core: Core, turn: Turn) -> str:
    """Your presence, or the presence of a member or group."""
    if not turn.args:
        return f"You are {core.directory.presence(turn.me.id).describe()}."
    if turn.args[0].lower().startswith("vm:"):
        return core.mailboxes.describe(core.mailboxes.get(turn.args[0][3:].lower()))
    found: Member | Group = core.directory.resolve(turn.args[0])
    if isinstance(found, Member):
        return describe_member(core, found)
    return describe_group(core, found)
