"""Planning a directory load: what changed, the rows to write, and what memory becomes.

Planning reads only immutable snapshots (the old and new ``DirectoryData``, the links as
read before, the old rowids, which only a swap replaces), so it runs in a worker thread
while the event loop goes on serving. Every row is prepared here, JSON included.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.directory.identities import Identities
from bot.directory.model import DirectoryData, Group, Mailbox, Member, Role
from bot.directory.ordering import (
    IndexChanges,
    entries_of,
    group_entry,
    index_changes,
    member_entry,
    name_key,
    spaced,
)
from bot.directory.search import (
    DELETE_ENTRY,
    DELETE_KEYS,
    INDEX,
    INSERT_ENTRY,
    INSERT_KEYS,
    UNINDEX,
    UPDATE_ENTRY,
    Entry,
    FtsWrite,
    key_rows,
)
from bot.directory.stored import Source
from bot.directory.writes import Row, Write

Links = list[tuple[str, str, str]]


@dataclass
class Plan:
    """A load, prepared: ``steps`` may run before the swap, ``final`` runs with it.

    ``rebuild`` (set only when the load may write the index whole, at once) replaces the
    index steps with one bulk build; ``groups`` is empty when the groups stay as they are.
    """

    data: DirectoryData
    source: Source
    identities: Identities
    links: Links
    rowids: dict[str, int]
    since: float
    steps: list[Write] = field(default_factory=list)
    final: list[Write] = field(default_factory=list)
    groups: list[Row] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: int = 0  # members written: the added and those whose entry changed
    rebuild: list[tuple[int, Entry]] | None = None
    indexed: bool = True  # False: the index is left to a build of its own (``IndexBuild``)

    @property
    def index_groups(self) -> bool:
        """Whether groups are searchable under this load."""
        return self.source[1]


@dataclass(frozen=True)
class Before:
    """What the tables hold now: the directory, its identities and, if trusted, the index.

    ``identities`` is only asked for single members (``handles``), which is safe while
    the loop's commands link others.
    """

    data: DirectoryData
    index_groups: bool
    identities: Identities
    # None: the tables cannot be trusted; the index is built whole and presence is
    # settled against the members after the load (``Directory.load``), not planned here
    rowids: Mapping[str, int] | None


@dataclass(frozen=True)
class WholeIndex:
    """The index written whole: every entry, spaced in name order, and the identities."""

    identities: Identities
    entries: list[tuple[int, Entry]]


def whole_index(data: DirectoryData, links: Links, index_groups: bool) -> WholeIndex:
    """Every search entry of ``data`` (with its identities, ``links`` included)."""
    identities = Identities()
    identities.load(data, links)
    return WholeIndex(identities, spaced(entries_of(data, identities, index_groups).values()))


def plan_load(
    before: Before,
    data: DirectoryData,
    source: Source,
    links: Links,
    now: float,
    *,
    bulk: bool,
    whole: WholeIndex | None = None,
    index: bool = True,
) -> Plan:
    """Everything a load of ``data`` writes, given what the tables hold ``before``.

    Only members whose entry in the file changed are compared further: their rows,
    identities and search entries are the only ones written. ``whole`` is the index
    written whole (``whole_index``) when the caller built it already; without ``index``
    (a load against the store only) the index is not planned at all.
    """
    if whole is None:
        new = Identities()
        new.load(data, links)
    else:
        new = whole.identities
    plan = Plan(data, source, new, links, {}, now)
    touched = _members(plan, before.data, data, presence=before.rowids is not None)
    _mailboxes(plan, before.data.mailboxes, data.mailboxes)
    if before.rowids is None or data.groups != before.data.groups:
        plan.groups = [_group_row(g) for g in data.groups.values()]
    changes = None
    if before.rowids is not None:
        old, fresh = _touched_entries(before, plan, touched)
        key_of = _key_finder(data)
        changes = index_changes(old, fresh, before.rowids, key_of)
    if changes is None and not index:
        plan.indexed = False
        return plan
    if changes is None:
        if whole is None:
            entries = spaced(entries_of(data, new, source[1]).values())
        else:
            entries = whole.entries
        plan.rowids = {e.ref: n for n, e in entries}
        if bulk:
            plan.rebuild = entries
            return plan
        old_rows = sorted((before.rowids or {}).values())  # every entry moves, in steps
        changes = IndexChanges(deleted=old_rows, inserted=entries, rowids=plan.rowids)
    plan.steps += _index_writes(changes)
    plan.rowids = changes.rowids
    return plan


def _touched_entries(
    before: Before, plan: Plan, touched: list[str]
) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """Search entries, before and after, of the touched members and of changed groups."""
    old: dict[str, Entry] = {}
    new: dict[str, Entry] = {}
    for mid in touched:
        was, now = before.data.members.get(mid), plan.data.members.get(mid)
        if was is not None:
            old[was.ref] = member_entry(was, before.identities)
        if now is not None:
            new[now.ref] = member_entry(now, plan.identities)
    for source, index_groups, out in (
        (before.data, before.index_groups, old),
        (plan.data, plan.index_groups, new),
    ):
        if index_groups:
            out.update((g.ref, group_entry(g)) for g in source.groups.values())
    return old, new


def _key_finder(data: DirectoryData) -> Callable[[str], str]:
    """The order key of any current entry, by ref, from the new directory's names."""

    def key_of(ref: str) -> str:
        if ref.startswith("@"):
            return name_key(data.members[ref[1:]].name, ref)
        return name_key(data.groups[ref].name, ref)

    return key_of


def _members(plan: Plan, old: DirectoryData, new: DirectoryData, *, presence: bool) -> list[str]:
    """Write changed, added and removed members (and, with ``presence``, theirs); their ids."""
    changed = [m for mid, m in new.members.items() if old.members.get(mid) != m]
    roles: dict[frozenset[Role], str] = {}
    plan.removed = [mid for mid in old.members if mid not in new.members]
    plan.added = [m.id for m in changed if m.id not in old.members]
    plan.changed = len(changed)
    plan.steps.append(
        Write(
            "INSERT OR REPLACE INTO members (id, name, roles, groups_, skills, handles, voice)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_member_row(m, roles) for m in changed],
        )
    )
    plan.steps.append(Write("DELETE FROM members WHERE id = ?", [(m,) for m in plan.removed]))
    if presence:
        plan.steps.append(
            Write(
                "INSERT OR REPLACE INTO presence (member_id, state, reason, since, busy)"
                " VALUES (?, 'logged_off', NULL, ?, 0)",
                [(mid, plan.since) for mid in plan.added],
            )
        )
        plan.final.append(
            Write("DELETE FROM presence WHERE member_id = ?", [(m,) for m in plan.removed])
        )
    return [m.id for m in changed] + plan.removed


def _mailboxes(plan: Plan, old: Mapping[str, Mailbox], new: Mapping[str, Mailbox]) -> None:
    plan.steps.append(
        Write(
            "INSERT INTO mailboxes (id, kind, owner) VALUES (?, ?, ?) ON CONFLICT(id)"
            " DO UPDATE SET kind = excluded.kind, owner = excluded.owner",
            [
                (b.id, "group" if b.group else "personal", b.owner)
                for b in new.values()
                if old.get(b.id) != b
            ],
        )
    )
    plan.final.append(
        Write("DELETE FROM mailboxes WHERE id = ?", [(box,) for box in old if box not in new])
    )


def _index_writes(changes: IndexChanges) -> list[Write]:
    """Entries, their FTS rows and keys, in an order where each step leaves no stale row."""
    updated = [n for n, _ in changes.updated]
    inserted = [n for n, _ in changes.inserted]
    gone = [(n,) for n in changes.deleted + updated]
    fresh = [(n,) for n in updated + inserted]
    return [
        Write(DELETE_KEYS, gone),
        FtsWrite(UNINDEX, gone),
        Write(DELETE_ENTRY, [(n,) for n in changes.deleted]),
        Write(UPDATE_ENTRY, [(e.kind, e.name, e.words, n) for n, e in changes.updated]),
        Write(INSERT_ENTRY, [(n, e.ref, e.kind, e.name, e.words) for n, e in changes.inserted]),
        FtsWrite(INDEX, fresh),
        Write(
            INSERT_KEYS,
            [k for n, e in changes.updated + changes.inserted for k in key_rows(n, e)],
        ),
    ]


def _ids(values: tuple[str, ...]) -> str:
    """``json.dumps(list(values))``, faster for ids and refs (nothing to escape in them)."""
    if not values:
        return "[]"
    if all(_PLAIN.fullmatch(v) for v in values):
        return '["' + '", "'.join(values) + '"]'
    return json.dumps(list(values))


_PLAIN = re.compile(r"[a-z0-9_.:-]+")
_VERBATIM = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # JSON writes these as they are


def _handles(handles: Mapping[str, str]) -> str:
    """``json.dumps(dict(handles))``, faster for handles with nothing to escape."""
    if not handles:
        return "{}"
    items = handles.items()
    if _VERBATIM.fullmatch("".join(itertools.chain.from_iterable(items))):
        return '{"' + '", "'.join(map('": "'.join, items)) + '"}'
    return json.dumps(dict(handles))


def _member_row(m: Member, roles: dict[frozenset[Role], str]) -> Row:
    role_text = roles.get(m.roles)
    if role_text is None:
        role_text = roles[m.roles] = json.dumps(sorted(m.roles))
    return (
        m.id,
        m.name,
        role_text,
        _ids(m.groups),
        _ids(m.skills),
        _handles(m.handles),
        m.voice,
    )


def _group_row(g: Group) -> Row:
    return (
        g.ref,
        g.kind.value,
        g.name,
        _ids(g.members),
        _ids(g.supervisors),
        _ids(g.routes_to),
    )
