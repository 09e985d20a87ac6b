"""Working with colleagues: consult, swap, transfer, conference, leave, remove, mute, im."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands.interactions import connected, picked, split_id
from bot.directory.model import Member
from bot.errors import CommandError
from bot.interaction.consults import MODES

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn


async def consult(core: Core, turn: Turn) -> str:
    """Consult a colleague about your current interaction (CON-1), or escalate one to voice."""
    engine, me = core.engine, turn.me.id
    args = turn.args
    current = engine.pick(me, turn.command.context)
    if current.kind == "consultation" and args == ["voice"]:
        return await engine.consults.escalate(me, connected(current, me))
    if len(args) == 2 and args[1].lower() not in MODES:
        raise CommandError(f"'{args[1]}' is not a consultation type; use voice, chat or im.")
    found = core.directory.resolve(args[0])
    parent = engine.live.get(current.parent or "") if current.kind == "consultation" else current
    if parent is None:
        raise CommandError(f"{current.parent} has ended; there is nothing to consult about.")
    connected(parent, me)
    mode = args[1].lower() if len(args) == 2 else None
    return await engine.consults.consult(me, parent, found, mode) or "Consultation could not start."


async def swap(core: Core, turn: Turn) -> str:
    """Alternate between the held call and your voice consultation (CON-7)."""
    return await core.engine.consults.swap(turn.me.id)


def _target_and_flags(turn: Turn) -> tuple[str | None, str | None, bool]:
    """``[ID] [now] [TARGET] [--explain]``; ``now`` only says: no consultation first."""
    iid, words = split_id(turn)
    explain = "--explain" in words
    words = [w for w in words if w != "--explain"]
    now = bool(words) and words[0].lower() == "now"
    if now:
        words = words[1:]
        if not words:
            raise CommandError(f"Usage: `{turn.spec.usage if turn.spec else ''}`: now to whom?")
    if len(words) > 1:
        raise CommandError(f"Usage: `{turn.spec.usage if turn.spec else ''}`")
    return iid, (words[0] if words else None), explain


async def transfer(core: Core, turn: Turn) -> str:
    """Transfer instantly to a target, or complete a warm transfer from a consultation."""
    engine, me = core.engine, turn.me.id
    iid, target, explain = _target_and_flags(turn)
    current = engine.pick(me, iid)
    if target is None:
        if explain:
            raise CommandError("`--explain` needs a target: `transfer TARGET --explain`.")
        return await engine.consults.warm_transfer(me, engine.consults.consultation_of(me, current))
    ix = engine.live.get(current.parent or "") if current.kind == "consultation" else current
    if ix is None:
        raise CommandError(f"{current.parent} has ended; there is nothing to transfer.")
    if target.lower().startswith("vm:") and not explain:
        box = core.mailboxes.get(target[3:].lower())
        return await engine.transfers.to_mailbox(me, connected(ix, me), box)
    found = core.directory.resolve(target)
    connected(ix, me)
    if explain:
        return engine.transfers.explain(ix, found)
    return await engine.transfers.transfer(me, ix, found) or f"{ix.id} could not be transferred."


async def conference(core: Core, turn: Turn) -> str:
    """Add a target to the interaction, or complete a warm conference from a consultation."""
    engine, me = core.engine, turn.me.id
    iid, target, explain = _target_and_flags(turn)
    current = engine.pick(me, iid)
    if target is None:
        return await engine.consults.warm_conference(
            me, engine.consults.consultation_of(me, current)
        )
    found = core.directory.resolve(target)
    ix = engine.live.get(current.parent or "") if current.kind == "consultation" else current
    if ix is None:
        raise CommandError(f"{current.parent} has ended; there is nobody to conference with.")
    connected(ix, me)
    if explain:
        return engine.transfers.explain(ix, found, conference=True)
    return await engine.transfers.conference(me, ix, found) or f"Nobody was added to {ix.id}."


async def leave(core: Core, turn: Turn) -> str:
    """Release your own leg: a conference, a supervision, a consultation (CNF-3, SUP-4)."""
    return await core.engine.lifecycle.leave(turn.me.id, picked(core, turn))


def _party_arg(core: Core, turn: Turn) -> tuple[str, str | None]:
    iid, rest = split_id(turn)
    if len(rest) != 1:
        raise CommandError(f"Usage: `{turn.spec.usage if turn.spec else ''}`")
    found = core.directory.resolve(rest[0])
    if not isinstance(found, Member):
        raise CommandError(f"{found.ref} is not a party; name a member like @bob.")
    return found.ref, iid


async def remove(core: Core, turn: Turn) -> str:
    """Release someone else's leg (CNF-6)."""
    who, iid = _party_arg(core, turn)
    ix = connected(core.engine.pick(turn.me.id, iid), turn.me.id)
    return await core.engine.lifecycle.remove(turn.me.id, ix, who)


async def mute(core: Core, turn: Turn) -> str:
    """Mute a party (CNF-2)."""
    who, iid = _party_arg(core, turn)
    ix = connected(core.engine.pick(turn.me.id, iid), turn.me.id)
    return await core.engine.lifecycle.mute(turn.me.id, ix, who, muted=True)


async def unmute(core: Core, turn: Turn) -> str:
    """Unmute a party."""
    who, iid = _party_arg(core, turn)
    ix = connected(core.engine.pick(turn.me.id, iid), turn.me.id)
    return await core.engine.lifecycle.mute(turn.me.id, ix, who, muted=False)


async def im(core: Core, turn: Turn) -> str:
    """Open an internal IM with a member or a group (IM-1)."""
    found = core.directory.resolve(turn.args[0])
    text = turn.rest.split(None, 1)[1] if len(turn.args) > 1 else ""
    return await core.engine.consults.im(turn.me.id, found, text) or "The IM could not start."
