"""Directory search over SQLite FTS5: exact, then word prefix, then contains (DIR-1).

Each tier is a bounded query (``LIMIT``), so a page costs the same whether the directory
holds ten members or a hundred thousand. Rowids follow name order (``ordering``), so FTS
rowid order is alphabetical within a tier without sorting every match.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from bot.directory.writes import Write

WORD = re.compile(r"\w+", re.UNICODE)
TRIGRAM_MIN = 3


@dataclass(frozen=True)
class Entry:
    """One searchable directory entry: a member or a group-like target."""

    ref: str  # "@alice", "group:support"
    kind: str  # "member", "group", "skill", "queue", "rp"
    name: str
    keys: tuple[str, ...]  # id, handles: exact-match keys besides the name

    @cached_property
    def words(self) -> str:
        """Text indexed for prefix and contains matching: handles without their server.

        A server part (``@chat.example.org``) is shared by thousands of members and would
        make every handle query scan them all; the full handle stays an exact-match key.
        """
        return entry_words(self.name, self.keys)


def entry_words(name: str, keys: tuple[str, ...]) -> str:
    """The words of an entry with this name and these keys (``Entry.words``)."""
    return " ".join((name, *map(local_part, keys)))


def local_part(handle: str) -> str:
    """``bob`` for ``bob@localhost`` (XMPP) and ``@bob:localhost`` (Matrix)."""
    if "@" not in handle:  # ids, Slack ids: most keys of a large directory
        return handle
    if handle.startswith("@") and ":" in handle:
        return handle[1:].split(":", 1)[0]
    return handle.split("@", 1)[0] if "@" in handle[1:] else handle


@dataclass(frozen=True)
class Page:
    """One page of search results, in rank order."""

    refs: tuple[str, ...]
    page: int
    has_more: bool


def tokens(text: str) -> list[str]:
    """Split text into lowercase words the way the FTS tokenizer does."""
    return [w.lower() for w in WORD.findall(text)]


def matches(entry: Entry, text: str) -> bool:
    """Whether ``entry`` matches ``text`` by any tier (used for favourites and recents)."""
    return _tier(entry, text) is not None


def _tier(entry: Entry, text: str) -> int | None:
    query = text.strip().lower()
    if query in (entry.name.lower(), *(k.lower() for k in entry.keys)):
        return 0
    words = tokens(entry.words)
    wanted = tokens(query)
    if wanted and all(any(w.startswith(q) for w in words) for q in wanted):
        return 1
    if query and query in entry.words.lower():
        return 2
    return None


FTS_TABLES = ("entries_words", "entries_trigram")
DELETE_KEYS = "DELETE FROM entry_keys WHERE entry = ?"
DELETE_ENTRY = "DELETE FROM entries WHERE rowid = ?"
UPDATE_ENTRY = "UPDATE entries SET kind = ?, name = ?, words = ? WHERE rowid = ?"
INSERT_ENTRY = "INSERT INTO entries (rowid, ref, kind, name, words) VALUES (?, ?, ?, ?, ?)"
INSERT_KEYS = "INSERT INTO entry_keys (key, entry) VALUES (?, ?)"
# The exact-match keys' indexes (in the index file, ``index_file``), dropped while the
# index is written whole: built once from sorted keys, they take a third of the time that
# 300,000 inserts in random key order take.
KEY_INDEXES = {
    "search.entry_keys_key": "CREATE INDEX search.entry_keys_key ON entry_keys(key, entry)",
    "search.entry_keys_entry": "CREATE INDEX search.entry_keys_entry ON entry_keys(entry)",
}


class FtsWrite(Write):
    """Forget (``UNINDEX``) or index (``INDEX``) the FTS rows of entries, by rowid.

    The FTS tables index ``entries`` (external content) and the index writes them itself,
    from each entry row as it stands: its words are read first, then passed as plain
    values. (An ``INSERT ... SELECT`` runs in a statement savepoint, and FTS5 flushes its
    pending terms at every savepoint: a segment per row.)
    """

    def run(self, conn: sqlite3.Connection) -> None:
        """Read the rows' words, then write them to both FTS tables."""
        marks = ", ".join("?" * len(self.rows))
        words = conn.execute(
            f"SELECT rowid, words FROM entries WHERE rowid IN ({marks})",
            [row[0] for row in self.rows],
        ).fetchall()
        for fts in FTS_TABLES:
            conn.executemany(self.sql.format(fts=fts), words)


UNINDEX = "INSERT INTO {fts}({fts}, rowid, words) VALUES ('delete', ?, ?)"
INDEX = "INSERT INTO {fts}(rowid, words) VALUES (?, ?)"


EntryRow = tuple[int, str, str, str, str]  # rowid, ref, kind, name, words
KeyRow = tuple[str, int]  # a lowercased exact-match key and its entry's rowid


def key_rows(rowid: int, entry: Entry) -> list[KeyRow]:
    """The exact-match keys of one entry, lowercased."""
    return [(key.lower(), rowid) for key in (entry.name, *entry.keys)]


class SearchIndex:
    """The FTS5-backed index of ``entries``; ``rowids`` maps each entry's ref to its row."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rowids: dict[str, int] = {}

    def read_rowids(self) -> None:
        """Learn where each stored entry is (start-up with an index already written)."""
        self.rowids = dict(self.conn.execute("SELECT ref, rowid FROM entries"))

    def rebuild(self, rows: Sequence[tuple[int, Entry]]) -> None:
        """Write the whole index at once, inside the caller's transaction."""
        self.write_whole(rows)
        self.build_fts()

    def write_whole(self, rows: Sequence[tuple[int, Entry]]) -> None:
        """``write_entries`` of these entries, each at its rowid."""
        self.write_entries(
            ((n, e.ref, e.kind, e.name, e.words) for n, e in rows),
            (k for n, e in rows for k in key_rows(n, e)),
        )

    def write_entries(self, entries: Iterable[EntryRow], keys: Iterable[KeyRow]) -> None:
        """Replace every entry and exact-match key; ``build_fts`` then indexes the words.

        ``entries`` are ``(rowid, ref, kind, name, words)``, ``keys`` their lowercased
        ``(key, rowid)``. The keys' indexes are built after their rows, from sorted keys.
        ``rowids`` stays as it is until the load that wrote them is swapped in
        (``Directory.swap``).
        """
        conn = self.conn
        for fts in FTS_TABLES:
            conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
        conn.execute("DELETE FROM entries")
        for name in KEY_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("DELETE FROM entry_keys")
        conn.executemany(INSERT_ENTRY, entries)
        conn.executemany(INSERT_KEYS, keys)
        for create in KEY_INDEXES.values():
            conn.execute(create)

    def build_fts(self) -> None:
        """Index every entry's words, both ways, after ``write_entries``.

        FTS5's own ``rebuild`` reads the content table in one pass, far faster than
        indexing the rows one by one. It is one long statement in SQLite's C code, which
        lets other Python threads run meanwhile (``Directory.load`` plans during it).
        """
        for fts in FTS_TABLES:
            self.conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")

    def update(self, entry: Entry) -> None:
        """Re-index one entry (a member got a new handle)."""
        rowid = self.rowids.get(entry.ref)
        if rowid is None:
            return
        conn = self.conn
        FtsWrite(UNINDEX, [(rowid,)]).run(conn)
        conn.execute("UPDATE entries SET words = ? WHERE rowid = ?", (entry.words, rowid))
        FtsWrite(INDEX, [(rowid,)]).run(conn)
        conn.execute(DELETE_KEYS, (rowid,))
        conn.executemany(INSERT_KEYS, key_rows(rowid, entry))

    def exact(self, text: str, limit: int) -> list[str]:
        """Refs whose name, id or handle equals ``text`` (case-insensitive)."""
        rows = self.conn.execute(
            "SELECT e.ref FROM entry_keys k JOIN entries e ON e.rowid = k.entry"
            " WHERE k.key = ? ORDER BY k.entry LIMIT ?",
            (text.strip().lower(), limit),
        )
        return [r[0] for r in rows]

    def prefix(self, text: str, limit: int) -> list[str]:
        """Refs where every query word is the prefix of some word, alphabetical."""
        words = tokens(text)
        if not words:
            return []
        match = " AND ".join(f'"{w}"*' for w in words)
        rows = self.conn.execute(
            "SELECT e.ref FROM entries_words f JOIN entries e ON e.rowid = f.rowid"
            " WHERE entries_words MATCH ? ORDER BY f.rowid LIMIT ?",
            (match, limit),
        )
        return [r[0] for r in rows]

    def contains(self, text: str, limit: int) -> list[str]:
        """Refs whose indexed text contains ``text`` anywhere (3+ characters)."""
        query = text.strip().lower()
        if len(query) < TRIGRAM_MIN:
            return []
        phrase = '"' + query.replace('"', '""') + '"'
        rows = self.conn.execute(
            "SELECT e.ref FROM entries_trigram f JOIN entries e ON e.rowid = f.rowid"
            " WHERE entries_trigram MATCH ? ORDER BY f.rowid LIMIT ?",
            (phrase, limit),
        )
        return [r[0] for r in rows]

    def search(
        self,
        text: str,
        *,
        first: Sequence[Entry] = (),
        page: int = 1,
        page_size: int = 10,
        known: Callable[[str], bool] = lambda ref: True,
    ) -> Page:
        """One page of ``rank`` over this index."""
        return rank(self, text, first=first, page=page, page_size=page_size, known=known)


class Tiers(Protocol):
    """Where search finds refs, tier by tier, each in rowid order: the index or memory."""

    def exact(self, text: str, limit: int) -> list[str]:
        """Refs whose name, id or handle equals ``text``."""

    def prefix(self, text: str, limit: int) -> list[str]:
        """Refs where every query word is the prefix of some word."""

    def contains(self, text: str, limit: int) -> list[str]:
        """Refs whose indexed text contains ``text``."""


def rank(
    tiers: Tiers,
    text: str,
    *,
    first: Sequence[Entry] = (),
    page: int = 1,
    page_size: int = 10,
    known: Callable[[str], bool] = lambda ref: True,
) -> Page:
    """Rank: ``first`` (favourites, recents) that match, then exact, prefix, contains.

    Only refs ``known`` to the directory in memory count: while a reload writes the
    index in steps, entries of members not yet swapped in are skipped.
    """
    need = page * page_size + 1
    ranked: dict[str, None] = {}
    for entry in sorted(first, key=lambda e: _tier(e, text) or 0):
        if matches(entry, text):
            ranked[entry.ref] = None
    for tier in (tiers.exact, tiers.prefix, tiers.contains):
        if len(ranked) >= need:
            break
        for ref in tier(text, need):
            if known(ref):
                ranked.setdefault(ref, None)
    refs = list(ranked)
    start = (page - 1) * page_size
    return Page(tuple(refs[start : start + page_size]), page, len(refs) > start + page_size)
