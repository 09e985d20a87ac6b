"""Admin commands: ``link`` an identity, ``reload`` the rules (DIR-6, RUL-5)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.directory.model import Member
from bot.errors import CommandError
from bot.outbound import Say

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn

PLATFORM = re.compile(r"^[a-z][a-z0-9_-]*$")


async def link(core: Core, turn: Turn) -> str:
    """Link a member's account on a platform: ``link @bob slack U0123``."""
    member = core.directory.resolve(turn.args[0])
    if not isinstance(member, Member):
        raise CommandError("Only members have platform accounts: `link @member PLATFORM HANDLE`.")
    platform, handle = turn.args[1].lower(), turn.args[2]
    if not PLATFORM.match(platform) or platform == "console":
        raise CommandError(f"'{platform}' is not a platform name (e.g. slack, matrix, xmpp, sip).")
    core.directory.link(member.id, platform, handle)
    # the member hears it there at once, so that adapter learns of them (and their presence)
    core.emit(Say(member.ref, f"Your {platform} account '{handle}' is linked to backline now."))
    return f"Linked {platform} account '{handle}' to {member.ref}."


async def reload(core: Core, turn: Turn) -> str:
    """Reload the rules folder; live state is kept, a bad folder keeps the old rules."""
    problems = core.reload_rules()
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:10])
        raise CommandError(f"The rules were not reloaded; the old rules stay. Problems:\n{shown}")
    return "Rules reloaded: directory and policy are current; presence and favourites are kept."
