"""Admin commands: ``link`` an identity, ``reload`` the rules (DIR-6, RUL-5)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.directory.model import Member
from bot.directory.reload import describe
from bot.dispatch.pipeline import new_ref
from bot.errors import CommandError
from bot.outbound import Say
from bot.port.plugin import discover

if TYPE_CHECKING:
    from bot.core import Core
    from bot.directory.plan import Plan
    from bot.dispatch.turn import Turn

log = logging.getLogger("backline.admin")

PLATFORM = re.compile(r"^[a-z][a-z0-9_-]*$")


async def link(core: Core, turn: Turn) -> str:
    """Link a member's account on a platform: ``link @bob slack U0123``."""
    member = core.directory.resolve(turn.args[0])
    if not isinstance(member, Member):
        raise CommandError("Only members have platform accounts: `link @member PLATFORM HANDLE`.")
    platform, handle = turn.args[1].lower(), turn.args[2]
    platforms = [name for name in discover() if name != "console"]
    if not PLATFORM.match(platform) or platform not in platforms:
        raise CommandError(
            f"'{platform}' is not a platform backline has an adapter for; "
            f"use one of: {', '.join(platforms)}."
        )
    core.directory.link(member.id, platform, handle)
    # the member hears it there at once, so that adapter learns of them (and their presence)
    core.emit(Say(member.ref, f"Your {platform} account '{handle}' is linked to backline now."))
    return f"Linked {platform} account '{handle}' to {member.ref}."


async def reload(core: Core, turn: Turn) -> str:
    """Reload the rules folder the way SIGHUP does, commands going on (RUL-5).

    The reload starts once this command is committed, with the store unlocked: the files
    are read in a worker thread and the directory written in short steps, other commands
    going on in between. For a small folder the adapter waits for it and the result is
    the only answer; a large one (``QUICK_BYTES``) runs as a task of its own, and the
    admin is told at once that it started, then what it writes, then how it ended.
    """
    if core.directory.loading:
        raise CommandError("A reload is already under way; try again once it has finished.")
    size = directory_size(core)
    if size < QUICK_BYTES:
        core.after_reply(lambda: tell_reload(core, turn))
        return ""

    async def start() -> None:
        core.spawn(tell_reload(core, turn, progress=True))

    core.after_reply(start)
    return (
        f"Reloading the rules ({size / 1e6:.1f} MB directory file); commands go on meanwhile,"
        " and I will tell you when it is done."
    )


QUICK_BYTES = 256 * 1024  # a directory file of some 2,500 members is read in well under 0.1 s
RELOADED = "Rules reloaded: directory and policy are current; presence and favourites are kept."


def directory_size(core: Core) -> int:
    """The size of the rules folder's directory file (0 when it cannot be read)."""
    try:
        return (core.rules.folder / "directory.yaml").stat().st_size
    except OSError:
        return 0


async def tell_reload(core: Core, turn: Turn, *, progress: bool = False) -> None:
    """Reload, then tell the admin how it went; a refusal carries a ref, logged like others."""
    admin = turn.me.ref

    async def planned(plan: Plan) -> None:
        await tell(core, Say(admin, describe(plan)))

    try:
        problems = await core.reload(planned if progress else None)
    except Exception:
        ref = new_ref()
        log.exception("reload failed ref=%s", ref)
        text = f"Sorry, the reload failed on our side (ref {ref}); the old rules stay."
        await tell(core, Say(admin, text))
        return
    if not problems:
        await tell(core, Say(admin, RELOADED))
        return
    shown = "\n".join(f"  {p}" for p in problems[:10])
    refused = replace(turn, ref=new_ref(), outcome="refused")
    message = f"The rules were not reloaded; the old rules stay. Problems:\n{shown}"
    log.info("refused ref=%s sender=%s text=%r: %s", refused.ref, admin, turn.command.text, message)

    async def refuse() -> None:
        core.record_refusal(refused, message)
        core.emit(Say(admin, f"{message} (ref {refused.ref})"))

    await core.act(refuse)


async def tell(core: Core, message: Say) -> None:
    """Deliver one message to a member at once (it changes nothing to commit)."""

    async def queue() -> None:
        core.emit(message)

    await core.act(queue)
