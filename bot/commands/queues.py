"""Queue and team views for supervisors and agents: ``queue [TARGET]``, ``team [GROUP]`` (GRP-3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, GroupKind, Member
from bot.errors import CommandError
from bot.interaction.queues import Waiting
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn


def age(seconds: float) -> str:
    """``5m``: a wait or a time in state, to the second."""
    return format_duration(max(0, round(seconds)))


def _item(item: Waiting) -> str:
    ix = item.ix
    what = "call" if ix.kind == "voice" else ix.kind
    rung = ", ".join(f"@{m}" for m in item.ringing)
    offered = f", offered to {rung}" if rung else ", nobody offered yet"
    return f"    {ix.id} {what} from {ix.customer} — waiting {age(item.age)}{offered}"


async def queue(core: Core, turn: Turn) -> str:
    """Customer work waiting per group, queue or member, oldest first, with who is rung."""
    queues = core.engine.queues
    if turn.args:
        found = core.directory.resolve(turn.args[0])
        groups = {found.ref: queues.waiting(found.ref)}
        if isinstance(found, Group) and found.kind is not GroupKind.GROUP:
            groups.update({ref: queues.waiting(ref) for ref in found.routes_to})
        groups = {ref: items for ref, items in groups.items() if items}
        if not groups:
            return f"Nothing waits for {found.ref}."
    else:
        groups = queues.by_target()
        if not groups:
            return "Nothing is waiting."
    total = sum(len(items) for items in groups.values())
    lines = [f"Waiting ({total}), oldest first:"]
    for ref, items in sorted(groups.items(), key=lambda kv: -kv[1][0].age):
        lines.append(f"  {ref} — {len(items)} waiting, longest {age(items[0].age)}")
        lines += [_item(item) for item in items]
    return "\n".join(lines)


def _member_line(core: Core, member: Member) -> str:
    presence = core.directory.presence(member.id)
    since = age(core.clock.now() - presence.since)
    live = core.engine.interactions_of(member.id)
    work = ", ".join(f"{ix.id} {ix.kind}" for ix in live)
    load = f" · {len(live)} live ({work})" if live else " · no live interactions"
    return f"  {member.ref} {member.name} — {presence.describe()} for {since}{load}"


async def team(core: Core, turn: Turn) -> str:
    """Members of a group with presence, time in state and live interactions."""
    if turn.args:
        found = core.directory.resolve(turn.args[0])
        if not isinstance(found, Group) or found.kind not in (GroupKind.GROUP, GroupKind.SKILL):
            raise CommandError(f"{found.ref} is not a group; try `team group:support`.")
        group = found
    else:
        mine = [
            g
            for g in core.directory.data.groups.values()
            if g.kind is GroupKind.GROUP
            and (turn.me.id in g.members or turn.me.id in g.supervisors)
        ]
        if not mine:
            raise CommandError("You are in no group; name one: `team group:support`.")
        group = mine[0]
    members = [core.directory.member(m) for m in group.members]
    lines = [f"Team {group.ref} {group.name} ({core.directory.available(group.ref)} ready now):"]
    lines += [_member_line(core, m) for m in members]
    waiting = core.engine.queues.waiting(group.ref)
    if waiting:
        lines.append(
            f"  {len(waiting)} waiting, longest {age(waiting[0].age)}: `queue {group.ref}`"
        )
    return "\n".join(lines)
