"""``help``, ``help COMMAND`` and ``whoami``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dispatch.pipeline import unknown_command
from bot.errors import CommandError

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn


async def help_(core: Core, turn: Turn) -> str:
    """List the commands the member may use, or explain one."""
    if turn.args:
        spec = core.commands.get(turn.args[0])
        if spec is None:
            raise CommandError(unknown_command(core, turn, turn.args[0]))
        lines = [f"`{spec.usage}` — {spec.summary}"]
        if spec.details:
            lines.append(spec.details)
        if spec.aliases:
            lines.append("Also: " + ", ".join(f"`{a}`" for a in spec.aliases))
        if spec.roles:
            lines.append(f"For {spec.who()}.")
        return "\n".join(lines)
    specs = list(core.commands.visible_to(turn.me))
    width = max(len(s.usage) for s in specs)
    rows = [f"  {s.usage.ljust(width)}  {s.summary}" for s in specs]
    return "Commands:\n" + "\n".join(rows) + "\nType `help COMMAND` for more on one."


async def whoami(core: Core, turn: Turn) -> str:
    """Who the directory says you are."""
    me = turn.me
    presence = core.directory.presence(me.id)
    roles = ", ".join(sorted(r.value for r in me.roles))
    parts = [f"You are {me.name} ({me.ref}), {roles}"]
    if me.groups:
        parts.append("groups: " + ", ".join(me.groups))
    if me.skills:
        parts.append("skills: " + ", ".join(me.skills))
    platforms = core.directory.identities.platforms(me.id)
    parts.append("reachable on " + ", ".join(("console", *platforms)))
    parts.append(f"presence: {presence.describe()}")
    return "; ".join(parts) + "."
