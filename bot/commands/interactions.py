"""Working an interaction: accept, decline, say, hold, resume, end, done, list, history."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from bot.directory.model import Role
from bot.errors import CommandError
from bot.interaction.model import Interaction

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn

ID = re.compile(r"^i\d+$", re.IGNORECASE)


def split_id(turn: Turn) -> tuple[str | None, list[str]]:
    """An optional leading interaction id, then the rest of the arguments."""
    args = list(turn.args)
    if args and ID.match(args[0]):
        return args[0].lower(), args[1:]
    return turn.command.context, args


def picked(core: Core, turn: Turn, *, acting: bool = True) -> Interaction:
    """The interaction named by a leading id, the message's context, or the current one.

    ``acting``: the command changes it, so only a connected party may give it.
    """
    iid, rest = split_id(turn)
    if rest:
        raise CommandError(
            f"`{turn.spec.name if turn.spec else ''}` takes only an interaction id. "
            f"Usage: `{turn.spec.usage if turn.spec else ''}`"
        )
    ix = core.engine.pick(turn.me.id, iid)
    return connected(ix, turn.me.id) if acting else ix


def connected(ix: Interaction, member_id: str) -> Interaction:
    """``ix`` if the member is connected to it; one who left or handed it over only reads it."""
    party = ix.party(f"@{member_id}")
    if party is None or not party.connected:
        raise CommandError(
            f"You are no longer connected to {ix.id}; `history {ix.id}` shows what happened."
        )
    return ix


def offer_id(turn: Turn) -> str | None:
    """The optional id of ``accept``/``decline``; anything else is refused, never ignored."""
    iid, rest = split_id(turn)
    if rest:
        usage = turn.spec.usage if turn.spec else ""
        raise CommandError(f"'{rest[0]}' is not an interaction id like i3. Usage: `{usage}`")
    return iid


async def accept(core: Core, turn: Turn) -> str:
    """Take what is offered to you."""
    iid = offer_id(turn)
    return await core.engine.lifecycle.accept(turn.me.id, iid)


async def decline(core: Core, turn: Turn) -> str:
    """Refuse what is offered to you."""
    iid = offer_id(turn)
    return await core.engine.lifecycle.decline(turn.me.id, iid)


async def say(core: Core, turn: Turn) -> str:
    """Write in your current interaction (or the one named first)."""
    words = turn.rest.split(None, 1)
    iid, text = turn.command.context, turn.rest
    if words and ID.match(words[0]):
        iid, text = words[0].lower(), (words[1] if len(words) > 1 else "")
    if not text.strip():
        raise CommandError("Usage: `say [ID] TEXT`: what should I say?")
    ix = connected(core.engine.pick(turn.me.id, iid), turn.me.id)
    heard = await core.engine.talk.say(ix, turn.me.ref, text)
    return "" if heard else f"Nobody in {ix.id} can hear you right now."


async def hold(core: Core, turn: Turn) -> str:
    """Put the caller on hold."""
    return await core.engine.lifecycle.hold(turn.me.id, picked(core, turn), hold=True)


async def resume(core: Core, turn: Turn) -> str:
    """Take the caller off hold."""
    return await core.engine.lifecycle.hold(turn.me.id, picked(core, turn), hold=False)


async def end(core: Core, turn: Turn) -> str:
    """End an interaction, a consultation or an IM."""
    return await core.engine.lifecycle.end(turn.me.id, picked(core, turn))


async def done(core: Core, turn: Turn) -> str:
    """Mark Done: close your part of an ended interaction."""
    return await core.engine.lifecycle.done(turn.me.id, picked(core, turn, acting=False))


async def dispose(core: Core, turn: Turn) -> str:
    """Set a disposition code."""
    code, iid = turn.args[0], (turn.args[1] if len(turn.args) > 1 else None)
    return core.engine.lifecycle.dispose(turn.me.id, core.engine.pick(turn.me.id, iid), code)


async def focus(core: Core, turn: Turn) -> str:
    """Make an interaction your current one."""
    ix = core.engine.pick(turn.me.id, turn.args[0])
    core.engine.set_focus(turn.me.id, ix.id)
    return f"Your current interaction is {ix.label}."


async def list_(core: Core, turn: Turn) -> str:
    """Your live interactions and what is offered to you."""
    engine = core.engine
    me = turn.me.id
    current = engine.current(me)
    lines = []
    for ix in engine.interactions_of(me, connected=False):
        party = ix.parties[turn.me.ref]
        if party.done:  # marked done: nothing left for you to do with it
            continue
        role = "you own it" if ix.owner == me and party.connected else party.role.value
        if not party.connected:
            role = "left; `done` to close"
        mark = " (current)" if ix is current else ""
        lines.append(f"  {ix.label}{with_whom(ix, turn.me.ref)} — {ix.state}, {role}{mark}")
    for ix in engine.offers.pending_for(me):
        lines.append(f"  {ix.label} — offered to you: `accept {ix.id}` or `decline {ix.id}`")
    if not lines:
        return "You have no live interactions."
    return "Your interactions:\n" + "\n".join(lines)


def with_whom(ix: Interaction, me: str) -> str:
    """`` with @bob`` for an IM, a consultation or an internal call: the other members."""
    if ix.customer:
        return ""
    others = [p.who for p in ix.parties.values() if p.member_id and p.who != me]
    if not others and ix.target and ix.target != me:
        others = [ix.target]  # not answered yet
    return f" with {', '.join(others)}" if others else ""


async def history(core: Core, turn: Turn) -> str:
    """Every event of an interaction, oldest first (INT-5)."""
    iid = turn.args[0].lower()
    if not core.engine.records.exists(iid):
        raise CommandError(f"There is no interaction {iid}.")
    events = core.store.events(subject=iid)
    was_party = any(e.data.get("who") == turn.me.ref for e in events)
    if not was_party and not turn.me.has(Role.SUPERVISOR):
        raise CommandError(
            f"You never took part in {iid}; only its parties and supervisors see it."
        )
    # Silent monitoring stays silent: agents do not read it here either (SUP-1).
    silent = not turn.me.has(Role.SUPERVISOR) and not core.policy.supervision.notify_agent
    lines = [f"History of {iid}:"]
    for event in events:
        if silent and "monitor" in (event.data.get("role"), event.data.get("mode")):
            continue
        at = time.strftime("%H:%M:%S", time.gmtime(event.at))
        detail = ", ".join(f"{k}={v}" for k, v in event.data.items() if v not in (None, "", []))
        lines.append(f"  {at} {event.kind} {detail}".rstrip())
    return "\n".join(lines)
