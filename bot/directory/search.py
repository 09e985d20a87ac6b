"""Directory search over SQLite FTS5: exact, then word prefix, then contains (DIR-1).

Each tier is a bounded query (``LIMIT``), so a page costs the same whether the directory
holds ten members or a hundred thousand. Rows are inserted in name order, so FTS rowid
order is alphabetical within a tier without sorting every match.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WORD = re.compile(r"\w+", re.UNICODE)
TRIGRAM_MIN = 3


@dataclass(frozen=True)
class Entry:
    """One searchable directory entry: a member or a group-like target."""

    ref: str  # "@alice", "group:support"
    kind: str  # "member", "group", "skill", "queue", "rp"
    name: str
    keys: tuple[str, ...]  # id, handles: exact-match keys besides the name

    @property
    def words(self) -> str:
        """Text indexed for prefix and contains matching: handles without their server.

        A server part (``@chat.example.org``) is shared by thousands of members and would
        make every handle query scan them all; the full handle stays an exact-match key.
        """
        return " ".join((self.name, *map(local_part, self.keys)))


def local_part(handle: str) -> str:
    """``bob`` for ``bob@localhost`` (XMPP) and ``@bob:localhost`` (Matrix)."""
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


class SearchIndex:
    """The FTS5-backed index of ``entries``; writes go through ``replace_all``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def replace_all(self, entries: Iterable[Entry]) -> None:
        """Rebuild the index from ``entries`` (inside the caller's transaction)."""
        self.conn.execute("DELETE FROM entries")
        self.conn.execute("DELETE FROM entry_keys")
        rows = sorted(entries, key=lambda e: (e.name.lower(), e.ref))
        self.conn.executemany(
            "INSERT INTO entries (rowid, ref, kind, name, words) VALUES (?, ?, ?, ?, ?)",
            ((n, e.ref, e.kind, e.name, e.words) for n, e in enumerate(rows, 1)),
        )
        self.conn.executemany(
            "INSERT INTO entry_keys (key, entry) VALUES (?, ?)",
            ((key.lower(), n) for n, e in enumerate(rows, 1) for key in (e.name, *e.keys)),
        )

    def update(self, entry: Entry) -> None:
        """Re-index one entry (a member got a new handle)."""
        row = self.conn.execute("SELECT rowid FROM entries WHERE ref = ?", (entry.ref,)).fetchone()
        if row is None:
            return
        self.conn.execute("UPDATE entries SET words = ? WHERE rowid = ?", (entry.words, row[0]))
        self.conn.execute("DELETE FROM entry_keys WHERE entry = ?", (row[0],))
        self.conn.executemany(
            "INSERT INTO entry_keys (key, entry) VALUES (?, ?)",
            [(key.lower(), row[0]) for key in (entry.name, *entry.keys)],
        )

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
        self, text: str, *, first: Sequence[Entry] = (), page: int = 1, page_size: int = 10
    ) -> Page:
        """Rank: ``first`` (favourites, recents) that match, then exact, prefix, contains."""
        need = page * page_size + 1
        ranked: dict[str, None] = {}
        for entry in sorted(first, key=lambda e: _tier(e, text) or 0):
            if matches(entry, text):
                ranked[entry.ref] = None
        for tier in (self.exact, self.prefix, self.contains):
            if len(ranked) >= need:
                break
            for ref in tier(text, need):
                ranked.setdefault(ref, None)
        refs = list(ranked)
        start = (page - 1) * page_size
        return Page(tuple(refs[start : start + page_size]), page, len(refs) > start + page_size)
