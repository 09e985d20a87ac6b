"""Plain-text views of directory entries, shared by ``find``, ``status``, ``groups``, ``recent``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, GroupKind, Member
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from bot.core import Core


def count_text(core: Core, group: Group) -> str:
    """``2 ready (now)``: what the count counts and how fresh it is (GRP-4)."""
    return f"{core.directory.available(group.ref)} ready (now)"


def describe_member(core: Core, member: Member) -> str:
    """``@bob Bob Baker — ready · console, slack``."""
    presence = core.directory.presence(member.id).describe()
    platforms = ", ".join(("console", *core.directory.identities.platforms(member.id)))
    return f"{member.ref} {member.name} — {presence} · on {platforms}"


def describe_group(core: Core, group: Group) -> str:
    """``group:support Support — 2 ready (now)``, or where a queue routes."""
    text = f"{group.ref} {group.name}"
    if group.kind in (GroupKind.GROUP, GroupKind.SKILL):
        if core.policy.groups.show_available_count:
            text += f" — {count_text(core, group)}"
        waiting = core.engine.queues.waiting(group.ref)
        if waiting:
            longest = format_duration(max(0, round(waiting[0].age)))
            text += f", {len(waiting)} waiting (longest {longest})"
    elif group.routes_to:
        text += " → " + ", ".join(group.routes_to)
    return text


def actions(core: Core, viewer: Member, found: Member | Group) -> list[str]:
    """What the viewer can do with a result (DIR-3)."""
    if found == viewer:
        return []
    reachable_by_voice = isinstance(found, Group) or found.voice is not None
    out = ["call", "im"] if reachable_by_voice else ["im"]
    if core.has_active_interaction(viewer.id):
        out += ["consult", "transfer", "conference"]
    if core.directory.contacts.failed_recently(viewer.id, found.ref):
        out.append("retry")
    return out


def describe(core: Core, viewer: Member, found: Member | Group) -> str:
    """A result line with its actions."""
    text = (
        describe_member(core, found) if isinstance(found, Member) else describe_group(core, found)
    )
    if found == viewer:
        return text + " (you)"
    return text + " · " + ", ".join(actions(core, viewer, found))
