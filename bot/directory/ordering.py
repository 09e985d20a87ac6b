"""Where each search entry goes: rowids in name order, with room left between them.

Search walks FTS matches in rowid order and takes the first page, so rowid order must be
name order. A full build spaces rowids ``GAP`` apart; an entry added or renamed later takes
a rowid between its new neighbours, and only when two neighbours have no room left is the
whole index written again. An entry whose name stays keeps its rowid.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.directory.identities import Identities
from bot.directory.model import DirectoryData, Group, Member
from bot.directory.search import Entry

GAP = 1 << 12


def order_key(entry: Entry) -> str:
    """Name order, case-insensitive, the ref breaking ties."""
    return name_key(entry.name, entry.ref)


def name_key(name: str, ref: str) -> str:
    """The order key of an entry with this name and ref."""
    return f"{name.lower()}\x00{ref}"


def member_entry(m: Member, identities: Identities) -> Entry:
    """A member as search finds them: by name, id and every handle."""
    return Entry(m.ref, "member", m.name, (m.id, *identities.handles(m.id).values()))


def group_entry(g: Group) -> Entry:
    """A group, skill, queue or routing point as search finds it."""
    return Entry(g.ref, g.kind.value, g.name, (g.id, g.ref))


def entries_of(data: DirectoryData, identities: Identities, index_groups: bool) -> dict[str, Entry]:
    """Every searchable entry of a directory, by ref."""
    out = {m.ref: member_entry(m, identities) for m in data.members.values()}
    if index_groups:
        out.update((g.ref, group_entry(g)) for g in data.groups.values())
    return out


def spaced(entries: Iterable[Entry]) -> list[tuple[int, Entry]]:
    """A full build: every entry in name order, ``GAP`` apart."""
    keyed = sorted((name_key(e.name, e.ref), e) for e in entries)  # refs, so keys, differ
    return [(n * GAP, e) for n, (_, e) in enumerate(keyed, 1)]


@dataclass
class IndexChanges:
    """What to change in the index; ``rowids`` is every entry's rowid afterwards."""

    deleted: list[int] = field(default_factory=list)
    updated: list[tuple[int, Entry]] = field(default_factory=list)
    inserted: list[tuple[int, Entry]] = field(default_factory=list)
    rowids: dict[str, int] = field(default_factory=dict)


def index_changes(
    old: Mapping[str, Entry],
    new: Mapping[str, Entry],
    rowids: Mapping[str, int],
    key_of: Callable[[str], str],
) -> IndexChanges | None:
    """The changes between ``old`` and ``new`` (only the entries that may have changed).

    Every other entry keeps its rowid; ``key_of`` gives the order key of any entry that
    stays. None when there is no room, or the index and memory disagree.
    """
    changes = IndexChanges(rowids=dict(rowids))
    placed: list[Entry] = []
    for ref, entry in old.items():
        now, rowid = new.get(ref), rowids.get(ref)
        if rowid is None:
            return None
        if now is not None and order_key(now) == order_key(entry):
            if now != entry:
                changes.updated.append((rowid, now))
            continue
        changes.deleted.append(rowid)
        del changes.rowids[ref]
        if now is not None:
            placed.append(now)
    placed += [e for ref, e in new.items() if ref not in old]
    if not placed:
        return changes
    refs = {rowid: ref for ref, rowid in changes.rowids.items()}
    kept = [(rowid, refs[rowid]) for rowid in sorted(refs)]  # ints sort fast: a short GIL hold
    return changes if _place(sorted(placed, key=order_key), kept, key_of, changes) else None


def _place(
    placed: list[Entry],
    kept: list[tuple[int, str]],
    key_of: Callable[[str], str],
    changes: IndexChanges,
) -> bool:
    """Give each new or renamed entry a rowid between its neighbours; False if none fits."""
    keys = [key_of(ref) for _, ref in kept]
    if any(a > b for a, b in itertools.pairwise(keys)):
        return False  # rowid order is not name order (an index from before the gaps)
    runs: dict[int, list[Entry]] = {}
    for entry in placed:
        runs.setdefault(bisect.bisect(keys, order_key(entry)), []).append(entry)
    for position, run in runs.items():
        low = kept[position - 1][0] if position else 0
        high = kept[position][0] if position < len(kept) else low + GAP * (len(run) + 1)
        step = (high - low) // (len(run) + 1)
        if step < 1:
            return False
        for n, entry in enumerate(run, 1):
            changes.inserted.append((low + n * step, entry))
            changes.rowids[entry.ref] = low + n * step
    return True
