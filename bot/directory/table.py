"""Every search entry of a directory at once, column by column, in name order.

A whole index of 100,000 entries made as ``Entry`` objects (``ordering.entries_of``, then
``spaced``) costs over a second of Python. The same entries as columns of plain strings,
lowercased and sorted in bulk, take a fraction of that, so a large first start makes
them before it answers: ``find`` searches them in memory (``MemoryScan``) from its first
command, and the worker that writes the index file (``IndexBuild``) only stores them.
Each column holds exactly what ``entries_of`` and ``spaced`` would give.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter

from bot.directory.identities import Identities
from bot.directory.model import DirectoryData
from bot.directory.ordering import GAP, group_entry
from bot.directory.search import Entry, EntryRow, KeyRow, entry_words

SEP = "\x00"  # never in a name, id or handle read from a file (YAML has no NUL)


@dataclass(frozen=True)
class EntryTable:
    """Search entries in rowid (name) order; entry ``n`` has rowid ``(n + 1) * GAP``."""

    refs: list[str]
    kinds: list[str]
    names: list[str]
    keys: list[tuple[str, ...]]  # exact-match keys besides the name: id, handles
    words: list[str]  # what prefix and contains search, as ``Entry.words``

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def rowids(self) -> range:
        """Each entry's rowid, in order."""
        return range(GAP, GAP * (len(self.refs) + 1), GAP)

    def rows(self) -> Iterator[EntryRow]:
        """``entries`` rows: rowid, ref, kind, name, words."""
        return zip(self.rowids, self.refs, self.kinds, self.names, self.words, strict=True)

    def key_rows(self) -> Iterator[KeyRow]:
        """``entry_keys`` rows: every entry's name, id and handles, lowercased, with its rowid.

        Made one by one as they are written, so the worker holds the interpreter for a
        row at a time, never for the 300,000 at once.
        """
        for rowid, name, keys in zip(self.rowids, self.names, self.keys, strict=True):
            yield name.lower(), rowid
            for key in keys:
                yield key.lower(), rowid

    def entries(self) -> list[tuple[int, Entry]]:
        """The same entries as ``spaced`` gives them."""
        return [
            (rowid, Entry(ref, kind, name, keys))
            for rowid, ref, kind, name, keys in zip(
                self.rowids, self.refs, self.kinds, self.names, self.keys, strict=True
            )
        ]


def lowered(texts: list[str]) -> list[str]:
    """Each text lowercased (in one call for all of them, unless one holds a NUL)."""
    every = SEP.join(texts).lower().split(SEP) if texts else []
    return every if len(every) == len(texts) else [text.lower() for text in texts]


def entry_table(data: DirectoryData, identities: Identities, index_groups: bool) -> EntryTable:
    """Every searchable entry of ``data`` (members as ``identities`` know them), in order."""
    members = list(data.members.values())
    handles = identities.handle_values
    refs = ["@" + m.id for m in members]
    names = [m.name for m in members]
    keys = [(m.id, *handles(m.id)) for m in members]
    kinds = ["member"] * len(refs)
    if index_groups:
        for g in map(group_entry, data.groups.values()):
            refs.append(g.ref)
            kinds.append(g.kind)
            names.append(g.name)
            keys.append(g.keys)
    return _in_order(refs, kinds, names, keys)


def table_of(entries: Sequence[Entry]) -> EntryTable:
    """A table of these entries, in name order (as ``spaced`` orders them)."""
    return _in_order(
        [e.ref for e in entries],
        [e.kind for e in entries],
        [e.name for e in entries],
        [e.keys for e in entries],
    )


def _in_order(
    refs: list[str], kinds: list[str], names: list[str], keys: list[tuple[str, ...]]
) -> EntryTable:
    """The columns sorted by name, case-insensitive, the ref breaking ties (``name_key``)."""
    if not refs:
        return EntryTable([], [], [], [], [])
    order_keys = [f"{name}{SEP}{ref}" for name, ref in zip(lowered(names), refs, strict=True)]
    order = sorted(range(len(refs)), key=order_keys.__getitem__)
    take = itemgetter(*order) if len(order) > 1 else lambda column: (column[0],)
    names, keys = list(take(names)), list(take(keys))
    words = list(map(entry_words, names, keys))
    return EntryTable(list(take(refs)), list(take(kinds)), names, keys, words)
