"""Directory commands: ``find``, ``groups``, ``fav``, ``recent`` (DIR-1…4, GRP-1, GRP-2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import GroupKind
from bot.directory.targets import parse_target
from bot.errors import CommandError
from bot.views import describe, describe_group

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn


def _page_option(turn: Turn) -> tuple[str, int]:
    words = turn.rest.split()
    if "--page" not in words:
        return turn.rest.strip(), 1
    at = words.index("--page")
    try:
        page = int(words[at + 1])
    except (IndexError, ValueError):
        raise CommandError("`--page` needs a page number, e.g. `find bob --page 2`.") from None
    if page < 1:
        raise CommandError("Pages start at 1.")
    return " ".join(words[:at] + words[at + 2 :]), page


async def find(core: Core, turn: Turn) -> str:
    """Search members, groups, skills, queues and routing points."""
    text, page = _page_option(turn)
    if not text:
        raise CommandError("Usage: `find TEXT [--page N]`: what should I look for?")
    size = core.policy.search.page_size
    result = core.directory.search(turn.me.id, text, page=page, page_size=size)
    if not result.refs:
        return f"Nothing found for '{text}'" + (f" on page {page}." if page > 1 else ".")
    start = (page - 1) * size
    lines = [f"Found for '{text}' (page {page}):"]
    for n, ref in enumerate(result.refs, start + 1):
        lines.append(f"  {n}. {describe(core, turn.me, core.directory.resolve(ref))}")
    if result.has_more:
        lines.append(f"More: `find {text} --page {page + 1}`")
    return "\n".join(lines)


async def groups(core: Core, turn: Turn) -> str:
    """Agent groups, with how many members are ready now."""
    if not core.policy.groups.searchable:
        raise CommandError("Groups are not listed here (the policy turns group search off).")
    listed = [g for g in core.directory.data.groups.values() if g.kind is GroupKind.GROUP]
    if not listed:
        return "There are no agent groups."
    mine = set(turn.me.groups)
    lines = ["Agent groups:"]
    for g in sorted(listed, key=lambda g: g.name.lower()):
        lines.append(f"  {describe_group(core, g)}" + (" (yours)" if g.id in mine else ""))
    return "\n".join(lines)


async def fav(core: Core, turn: Turn) -> str:
    """List, add or remove favourites."""
    verb = turn.args[0].lower() if turn.args else "list"
    contacts = core.directory.contacts
    if verb == "list" and len(turn.args) <= 1:
        refs = contacts.favourites(turn.me.id)
        if not refs:
            return "No favourites yet. Add one with `fav add @bob`."
        return "Favourites:\n" + "\n".join(f"  {_listed(core, turn, r)}" for r in refs)
    if verb not in ("add", "rm") or len(turn.args) != 2:
        raise CommandError("Usage: `fav add TARGET`, `fav rm TARGET` or `fav` to list.")
    if verb == "rm":
        ref = str(parse_target(turn.args[1]))
        if contacts.remove_favourite(turn.me.id, ref):
            return f"Removed {ref} from your favourites."
        _ref(core, ref)  # names an unknown target before "not a favourite"
        raise CommandError(f"{ref} is not one of your favourites.")
    ref = _ref(core, turn.args[1])
    if contacts.add_favourite(turn.me.id, ref):
        return f"Added {ref} to your favourites."
    return f"{ref} is already a favourite."


def _ref(core: Core, text: str) -> str:
    """A member's, group's or mailbox's ref, checked against the directory."""
    if text.lower().startswith("vm:"):
        return f"vm:{core.mailboxes.get(text[3:].lower()).id}"
    return core.directory.resolve(text).ref


def _listed(core: Core, turn: Turn, ref: str) -> str:
    if ref.startswith("vm:") and ref[3:] in core.directory.data.mailboxes:
        return core.mailboxes.describe(core.directory.data.mailboxes[ref[3:]])
    if core.directory.entry(ref) is None:
        return f"{ref} (no longer in the directory; `fav rm {ref}` to drop it)"
    return describe(core, turn.me, core.directory.resolve(ref))


async def recent(core: Core, turn: Turn) -> str:
    """Whom you contacted most recently."""
    refs = [r for r in core.directory.contacts.recents(turn.me.id) if core.directory.entry(r)]
    if not refs:
        return "No recent contacts yet."
    return "Recent contacts:\n" + "\n".join(f"  {_listed(core, turn, r)}" for r in refs)
