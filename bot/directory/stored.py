"""The directory as the store holds it, and which directory file it was written from.

``directory_source`` records the content hash of the file the directory tables were last
written from, in the same transaction as the last write of a load. A load that writes in
several steps clears it in its first step, so a crash half way leaves no hash and the next
start-up writes everything again instead of trusting half-written tables.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.directory.model import DirectoryData, Group, GroupKind, Mailbox, Member, Role
from bot.directory.quiet import collector_paused

MIGRATIONS = Migrations("backline-directory")
Source = tuple[str, bool]  # (content hash, whether groups are in the search index)


@MIGRATIONS(name="0001_directory_source")
def _source(db: Database) -> None:
    db.execute(
        """CREATE TABLE directory_source (
            id INTEGER PRIMARY KEY CHECK (id = 1), digest TEXT NOT NULL,
            index_groups INTEGER NOT NULL
        )"""
    )


@MIGRATIONS(name="0002_entry_keys_by_entry")
def _keys_by_entry(db: Database) -> None:
    # A reload deletes the keys of each entry it changes: without this, a scan each time.
    db.execute("CREATE INDEX entry_keys_entry ON entry_keys(entry)")


@MIGRATIONS(name="0003_fts_written_by_the_index")
def _no_fts_triggers(db: Database) -> None:
    # Each trigger runs in a statement savepoint, and FTS5 flushes its pending terms at
    # every savepoint: a segment per row, ~1 ms a row. ``SearchIndex`` writes the FTS
    # tables itself, a statement for many rows at a time.
    for fts in ("entries_words", "entries_trigram"):
        for suffix in ("ai", "ad", "au"):
            db.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")


@MIGRATIONS(name="0004_search_index_in_its_own_file")
def _index_file(db: Database) -> None:
    # The index moved to a file of its own (``bot.directory.index_file``), attached as
    # ``search``; these copies would hide it. The directory is loaded whole once more,
    # which writes the index there.
    for table in ("entries_words", "entries_trigram", "entry_keys", "entries"):
        db.execute(f"DROP TABLE IF EXISTS main.{table}")
    db.execute("DELETE FROM directory_source")


@MIGRATIONS(name="0005_identities_from_memory")
def _no_identity_rows(db: Database) -> None:
    # Nothing reads the identities table: memory knows them from the file and ``links``.
    db.execute("DELETE FROM identities")


def stored_source(conn: sqlite3.Connection) -> Source | None:
    """The hash and index setting the directory tables were written with, if complete."""
    try:
        row = conn.execute("SELECT digest, index_groups FROM directory_source").fetchone()
    except sqlite3.OperationalError:  # a database from before this table
        return None
    return None if row is None or not row[0] else (row[0], bool(row[1]))


def record_source(conn: sqlite3.Connection, source: Source | None) -> None:
    """Record (or, with None, clear) the file the directory tables now match."""
    digest, index_groups = source or ("", False)
    conn.execute(
        "INSERT OR REPLACE INTO directory_source (id, digest, index_groups) VALUES (1, ?, ?)",
        (digest, int(index_groups)),
    )


def read_stored(conn: sqlite3.Connection) -> DirectoryData:
    """Members, groups and mailboxes as the directory tables hold them.

    Each JSON column is decoded in one call for all rows (100,000 members: four calls,
    not 400,000), and members with the same roles share one set.
    """
    rows = conn.execute(
        "SELECT id, name, roles, groups_, skills, handles, voice FROM members"
    ).fetchall()
    ids, names, role_texts, groups_, skills, handles, voices = _columns(rows, 7)
    role_sets: dict[str, frozenset[Role]] = {}
    for text in set(role_texts):
        role_sets[text] = frozenset(map(Role, json.loads(text)))
    members = {
        mid: Member(mid, name, role_sets[roles], owned, voice, tuple(gs), tuple(ss))
        for mid, name, roles, owned, voice, gs, ss in zip(
            ids,
            names,
            role_texts,
            _decoded(handles),
            voices,
            _decoded(groups_),
            _decoded(skills),
            strict=True,
        )
    }
    groups = {
        ref: Group(
            ref.split(":", 1)[1],
            GroupKind(kind),
            name,
            tuple(json.loads(people)),
            tuple(json.loads(supervisors)),
            tuple(json.loads(routes)),
        )
        for ref, kind, name, people, supervisors, routes in conn.execute(
            "SELECT id, kind, name, members, supervisors, routes_to FROM groups"
        )
    }
    boxes = {
        box: Mailbox(box, owner, group=kind == "group")
        for box, kind, owner in conn.execute("SELECT id, kind, owner FROM mailboxes")
    }
    return DirectoryData(members, groups, boxes)


def _columns(rows: list[Any], width: int) -> list[tuple[Any, ...]]:
    """The rows' columns, each as one tuple (``width`` of them, empty without rows)."""
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def _decoded(texts: tuple[str, ...]) -> list[Any]:
    """Each JSON text's value, decoded as one array in a single call."""
    return list(json.loads("[" + ",".join(texts) + "]")) if texts else []


def peek(database: Path | str) -> Callable[[str], DirectoryData | None]:
    """Before the store opens: the stored directory, if it was written from this hash.

    Start-up asks this before reading the directory file, so an unchanged file of
    100,000 members is never parsed again. The database is only read, never created.
    """

    def stored(digest: str) -> DirectoryData | None:
        path = Path(database)
        if str(database) == ":memory:" or not path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            return None
        try:
            source = stored_source(conn)
            if source is None or source[0] != digest:
                return None
            with collector_paused():
                return read_stored(conn)
        except sqlite3.Error:
            return None
        finally:
            conn.close()

    return stored
