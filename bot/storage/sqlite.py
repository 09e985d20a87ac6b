"""The SQLite store: connection settings, transactions, the event log and idempotency keys."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.storage import jsontext
from bot.storage.checkpoint import Checkpointer
from bot.storage.migrations import MIGRATIONS

Synchronous = Literal["OFF", "NORMAL", "FULL"]
EventRow = tuple[float, str, str | None, str | None, str]


class Deferred(Protocol):
    """Writes kept in memory during a transaction and written once, just before it commits."""

    def flush(self) -> None:
        """Write what is pending."""

    def committed(self) -> None:
        """What was flushed is now stored for good."""

    def discard(self) -> None:
        """Forget what is pending and what was flushed: the transaction rolled back."""


@dataclass(frozen=True)
class Event:
    """One entry of the append-only log."""

    id: int
    at: float
    kind: str
    actor: str | None
    subject: str | None
    data: dict[str, Any]


UNINDEXED_KINDS = ("command", "presence", "refused")
"""A member's own log lines: found by kind, and left out of the subject index (migration
0010), so a command writes no index page for its own line."""
BY_SUBJECT = f"kind NOT IN ({', '.join(repr(k) for k in UNINDEXED_KINDS)})"
"""The subject index's condition, as a query must state it for SQLite to use the index."""

CACHE_KIB = 32 * 1024
"""The page cache: a command touches a few leaves spread over the log and the live tables;
kept in memory, they are not read again from the file on the next command (SQLite's
default keeps 2 MiB, a few hundred live interactions' worth)."""


class Store:
    """One SQLite database in WAL mode; every write happens inside ``transaction()``.

    ``synchronous=NORMAL`` (the default) makes a commit durable against a crash of the
    process, as WAL mode allows without an fsync per commit; ``FULL`` also survives an
    operating-system crash or power cut, at the cost of an fsync per command.

    A single asyncio lock (``lock``) serialises command handling so one open transaction
    never interleaves with another on the shared connection.

    Inside a transaction, events (and the writes of every registered ``Deferred``) wait in
    memory and are written together just before ``COMMIT``: a command that appends five
    events costs one ``executemany``, not five statements. Reads that need them
    (``events()``, or anyone calling ``flush()`` first) see them; a rollback forgets them.
    """

    def __init__(self, path: Path | str, *, synchronous: Synchronous = "NORMAL") -> None:
        self.path = str(path)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        self.db = Database(conn)
        self.conn = conn
        """The underlying connection, for queries sqlite-utils does not cover (FTS5)."""
        self.checkpointer: Checkpointer | None = None
        if self.path != ":memory:":
            self.db.enable_wal()
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA foreign_keys = ON")
        MIGRATIONS.apply(self.db)
        if self.path != ":memory:":  # commits never pay for a checkpoint (checkpoint.py)
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self.checkpointer = Checkpointer(self.path)
        self.lock = asyncio.Lock()
        self._events: list[EventRow] = []
        self._deferred: list[Deferred] = []
        self._savepoints = itertools.count(1)

    def transaction(self) -> AbstractContextManager[None]:
        """Run the block atomically; nested blocks become savepoints.

        Deferred writes are flushed before ``COMMIT`` (and around a savepoint, so rolling
        one back forgets exactly what was written inside it).
        """
        return _Transaction(self)

    def defer(self, writer: Deferred) -> None:
        """Have ``writer`` flushed before each commit and discarded on each rollback."""
        self._deferred.append(writer)

    def flush(self) -> None:
        """Write every deferred write now (a read that must see them calls this first)."""
        for writer in self._deferred:
            writer.flush()
        self._flush_events()

    def _flush_events(self) -> None:
        if self._events:
            rows, self._events = self._events, []
            self.conn.executemany(
                "INSERT INTO events (at, kind, actor, subject, data) VALUES (?, ?, ?, ?, ?)", rows
            )

    def _discard(self) -> None:
        for writer in self._deferred:
            writer.discard()
        self._events.clear()

    def migrate(self, migrations: Migrations) -> None:
        """Apply a component's own numbered migrations (an adapter's tables)."""
        migrations.apply(self.db)

    def close(self) -> None:
        """Stop checkpointing and close the connection."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.db.close()

    # -- the event log ---------------------------------------------------------------

    def append_event(
        self,
        at: float,
        kind: str,
        *,
        actor: str | None = None,
        subject: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event; inside a transaction it is written just before the commit."""
        self._events.append((at, kind, actor, subject, jsontext.dumps(data or {})))
        if not self.conn.in_transaction:
            self.flush()

    def events(
        self, *, subject: str | None = None, kind: str | None = None, after: int = 0
    ) -> list[Event]:
        """Return events in order, optionally for one subject or of one kind.

        Pending events are written first when one of them is asked for (else they wait for
        the commit, one write for all); the other deferred writes (interaction rows) always
        wait, so a read of the log never makes them write twice.
        """
        if any(
            (subject is None or row[3] == subject) and (kind is None or row[1] == kind)
            for row in self._events
        ):
            self._flush_events()
        where, params = ["id > ?"], [after]
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)  # type: ignore[arg-type]
            if kind not in UNINDEXED_KINDS:  # the subject index holds every other kind
                where.append(BY_SUBJECT)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)  # type: ignore[arg-type]
        rows = self.conn.execute(
            f"SELECT id, at, kind, actor, subject, data FROM events WHERE {' AND '.join(where)}"
            " ORDER BY id",
            params,
        )
        return [Event(r[0], r[1], r[2], r[3], r[4], jsontext.loads(r[5])) for r in rows]

    # -- idempotency -----------------------------------------------------------------

    def recall(self, key: str) -> list[dict[str, Any]] | None:
        """Return the stored reply of an already handled delivery, or None."""
        row = self.conn.execute("SELECT reply FROM idempotency WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        reply: list[dict[str, Any]] = jsontext.loads(row[0])
        return reply

    def remember(self, key: str, at: float, reply: list[dict[str, Any]]) -> None:
        """Record that ``key`` was handled and what was replied."""
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency (key, at, reply) VALUES (?, ?, ?)",
            (key, at, jsontext.dumps(reply)),
        )

    def forget_keys(self, before: float) -> int:
        """Retention: drop delivery keys recorded before ``before``; returns how many went.

        Platforms retry a delivery within minutes (Slack) or hours (a reconnecting
        stream), so a key kept for a day catches every retry; the table stays small.
        """
        return self.conn.execute("DELETE FROM idempotency WHERE at < ?", (before,)).rowcount


class _Transaction:
    """``Store.transaction()``: every command enters one, so it is a plain class."""

    __slots__ = ("savepoint", "store")

    def __init__(self, store: Store) -> None:
        self.store = store
        self.savepoint: str | None = None  # the name, when nested in an open transaction

    def __enter__(self) -> None:
        store, conn = self.store, self.store.conn
        if conn.in_transaction:
            self.savepoint = f"backline_{next(store._savepoints)}"
            store.flush()
            conn.execute(f"SAVEPOINT {self.savepoint}")
        else:
            checkpointer = store.checkpointer
            if checkpointer is not None and checkpointer.wanted:
                checkpointer.catch_up(conn)
            conn.execute("BEGIN")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        store, conn = self.store, self.store.conn
        if kind is None:
            try:
                store.flush()
            except BaseException:
                self._roll_back()
                raise
            if self.savepoint is None:
                conn.execute("COMMIT")
                for writer in store._deferred:
                    writer.committed()
            else:
                conn.execute(f"RELEASE SAVEPOINT {self.savepoint}")
            return
        self._roll_back()  # and the exception goes on

    def _roll_back(self) -> None:
        store, conn = self.store, self.store.conn
        store._discard()
        if not conn.in_transaction:  # a RAISE(ROLLBACK) may have ended it all
            return
        if self.savepoint is None:
            conn.execute("ROLLBACK")
        else:
            conn.execute(f"ROLLBACK TO SAVEPOINT {self.savepoint}")
            conn.execute(f"RELEASE SAVEPOINT {self.savepoint}")
