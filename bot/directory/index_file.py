"""The search index in a database file of its own, attached to the store's connection.

The index (``entries``, their exact-match keys and both full-text tables) is derived data:
everything in it follows from the directory tables and the links. Kept in its own file
(``<database>.search``, attached as ``search``), it can be built whole by a worker thread
in one transaction of its own while the event loop goes on committing to the main
database: SQLite locks each file on its own, so the loop's commits never wait for it.

``index_source`` records the directory file (hash and index setting) the index was
written from, in the same transaction as its last write; the index is trusted only when
that matches what the directory tables were written from. A build that dies half way
commits nothing: the next start builds it again.
"""

from __future__ import annotations

import sqlite3

from bot.directory.stored import Source

SCHEMA = "search"
VERSION = 1  # ``user_version`` of the index file; another value: dropped and made again
TABLES = ("entries", "entry_keys", "entries_words", "entries_trigram", "index_source")
# Neither full-text table keeps column sizes (``columnsize=0``): search ranks by rowid,
# never by bm25, and the sizes are a third of what indexing writes.
CREATE = (
    """CREATE TABLE search.entries (
        rowid INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
        name TEXT NOT NULL, words TEXT NOT NULL
    )""",
    "CREATE TABLE search.entry_keys (key TEXT NOT NULL, entry INTEGER NOT NULL)",
    "CREATE INDEX search.entry_keys_key ON entry_keys(key, entry)",
    "CREATE INDEX search.entry_keys_entry ON entry_keys(entry)",
    """CREATE VIRTUAL TABLE search.entries_words USING fts5(
        words, content='entries', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3', columnsize=0
    )""",
    """CREATE VIRTUAL TABLE search.entries_trigram USING fts5(
        words, content='entries', content_rowid='rowid', tokenize='trigram', columnsize=0
    )""",
    """CREATE TABLE search.index_source (
        id INTEGER PRIMARY KEY CHECK (id = 1), digest TEXT NOT NULL,
        index_groups INTEGER NOT NULL
    )""",
)


def index_path(database: str) -> str:
    """Where the index of the store at ``database`` lives (in memory for a memory store)."""
    return ":memory:" if database == ":memory:" else f"{database}.search"


def attach(conn: sqlite3.Connection, database: str) -> None:
    """Attach the index file to ``conn`` as ``search``, made (or made again) as needed."""
    attached = {row[1] for row in conn.execute("PRAGMA database_list")}
    if SCHEMA not in attached:
        conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (index_path(database),))
    if database != ":memory:":
        conn.execute(f"PRAGMA {SCHEMA}.journal_mode = WAL").fetchone()
    if conn.execute(f"PRAGMA {SCHEMA}.user_version").fetchone()[0] == VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
        for statement in CREATE:
            conn.execute(statement)
        conn.execute(f"PRAGMA {SCHEMA}.user_version = {VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def indexed_source(conn: sqlite3.Connection) -> Source | None:
    """The directory file the index was written from, if it was written whole."""
    row = conn.execute(f"SELECT digest, index_groups FROM {SCHEMA}.index_source").fetchone()
    return None if row is None or not row[0] else (row[0], bool(row[1]))


def record_indexed(conn: sqlite3.Connection, source: Source | None) -> None:
    """Record (or, with None, clear) the directory file the index now matches."""
    if source is None or not source[0]:
        conn.execute(f"DELETE FROM {SCHEMA}.index_source")
        return
    conn.execute(
        f"INSERT OR REPLACE INTO {SCHEMA}.index_source (id, digest, index_groups) VALUES (1, ?, ?)",
        (source[0], int(source[1])),
    )
