"""The SQLite store: connection settings, transactions, the event log and idempotency keys."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Sequence
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
EventRow = tuple[int, float, str, str | None, str | None, str]


class Deferred(Protocol):
    """Writes kept in memory during a transaction and written once, just before it commits."""

    def flush(self) -> None:
        """Write what is pending."""

    def committed(self) -> None:
        """What was flushed is now stored for good."""

    def discard(self) -> None:
        """Forget what is pending and what was flushed: the transaction rolled back."""


class Locator(Protocol):
    """Knows where the events about its subjects are (the interactions do: ``Records``)."""

    def event_ids(self, subject: str) -> Sequence[int] | None:
        """The ids of every event about ``subject``; None if it is no subject of its own."""


@dataclass(frozen=True)
class Event:
    """One entry of the append-only log."""

    id: int
    at: float
    kind: str
    actor: str | None
    subject: str | None
    data: dict[str, Any]


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

    The log has no index by subject, which would cost every command a page of its own: an
    event's id is given when it is appended, and whoever owns a subject keeps the ids of its
    events (an interaction in its row, migration 0012) and answers ``locator``'s question.
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
        self._last_event: int | None = None  # the id of the newest event; None: ask
        self._committed_event: int | None = None  # ... of the newest committed one
        self.locator: Locator | None = None
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
                "INSERT INTO events (id, at, kind, actor, subject, data) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def _discard(self) -> None:
        for writer in self._deferred:
            writer.discard()
        self._events.clear()
        self._last_event = None  # ids handed out inside it were not stored: given again

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
    ) -> int:
        """Append one event and return its id.

        Inside a transaction the event is written just before the commit.
        """
        if self._last_event is None:
            (last,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            self._last_event = int(last)
        self._last_event += 1
        row = (self._last_event, at, kind, actor, subject, jsontext.dumps(data or {}))
        self._events.append(row)
        if not self.conn.in_transaction:
            self.flush()
            self._committed_event = self._last_event
        return self._last_event

    def events(
        self, *, subject: str | None = None, kind: str | None = None, after: int = 0
    ) -> list[Event]:
        """Return events in order, optionally for one subject or of one kind.

        A subject the ``locator`` knows is read by the ids it gives; any other (a member's
        own lines, found by kind) is looked for through the whole log.

        Pending events are written first when one of them is asked for (else they wait for
        the commit, one write for all); the other deferred writes (interaction rows) always
        wait, so a read of the log never makes them write twice.
        """
        if any(
            (subject is None or row[4] == subject) and (kind is None or row[2] == kind)
            for row in self._events
        ):
            self._flush_events()
        where: list[str] = ["id > ?"]
        params: list[object] = [after]
        if subject is not None:
            ids = self.locator.event_ids(subject) if self.locator is not None else None
            if ids is None:
                where.append("subject = ?")
                params.append(subject)
            else:
                where.append("id IN (SELECT value FROM json_each(?))")
                params.append(jsontext.dumps(list(ids)))
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
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
                store._committed_event = store._last_event
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
            store._last_event = store._committed_event  # the ids it gave are given again
        else:
            conn.execute(f"ROLLBACK TO SAVEPOINT {self.savepoint}")
            conn.execute(f"RELEASE SAVEPOINT {self.savepoint}")
