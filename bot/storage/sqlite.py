"""The SQLite store: connection settings, transactions, the event log and idempotency keys."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.storage.checkpoint import Checkpointer
from bot.storage.migrations import MIGRATIONS

Synchronous = Literal["OFF", "NORMAL", "FULL"]


@dataclass(frozen=True)
class Event:
    """One entry of the append-only log."""

    id: int
    at: float
    kind: str
    actor: str | None
    subject: str | None
    data: dict[str, Any]


class Store:
    """One SQLite database in WAL mode; every write happens inside ``transaction()``.

    ``synchronous=NORMAL`` (the default) makes a commit durable against a crash of the
    process, as WAL mode allows without an fsync per commit; ``FULL`` also survives an
    operating-system crash or power cut, at the cost of an fsync per command.

    A single asyncio lock (``lock``) serialises command handling so one open transaction
    never interleaves with another on the shared connection.
    """

    def __init__(self, path: Path | str, *, synchronous: Synchronous = "NORMAL") -> None:
        self.path = str(path)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        self.db = Database(conn)
        self.checkpointer: Checkpointer | None = None
        if self.path != ":memory:":
            self.db.enable_wal()
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        MIGRATIONS.apply(self.db)
        if self.path != ":memory:":  # commits never pay for a checkpoint (checkpoint.py)
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self.checkpointer = Checkpointer(self.path)
        self.lock = asyncio.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        """The underlying connection, for queries sqlite-utils does not cover (FTS5)."""
        conn: sqlite3.Connection = self.db.conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block atomically; nested blocks become savepoints."""
        with self.db.atomic():
            yield

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
        """Append one event and return its id."""
        cursor = self.conn.execute(
            "INSERT INTO events (at, kind, actor, subject, data) VALUES (?, ?, ?, ?, ?)",
            (at, kind, actor, subject, json.dumps(data or {}, sort_keys=True)),
        )
        return int(cursor.lastrowid or 0)

    def events(
        self, *, subject: str | None = None, kind: str | None = None, after: int = 0
    ) -> list[Event]:
        """Return events in order, optionally for one subject or of one kind."""
        where, params = ["id > ?"], [after]
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)  # type: ignore[arg-type]
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)  # type: ignore[arg-type]
        rows = self.conn.execute(
            f"SELECT id, at, kind, actor, subject, data FROM events WHERE {' AND '.join(where)}"
            " ORDER BY id",
            params,
        )
        return [Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    # -- idempotency -----------------------------------------------------------------

    def recall(self, key: str) -> list[dict[str, Any]] | None:
        """Return the stored reply of an already handled delivery, or None."""
        row = self.conn.execute("SELECT reply FROM idempotency WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        reply: list[dict[str, Any]] = json.loads(row[0])
        return reply

    def remember(self, key: str, at: float, reply: list[dict[str, Any]]) -> None:
        """Record that ``key`` was handled and what was replied."""
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency (key, at, reply) VALUES (?, ?, ?)",
            (key, at, json.dumps(reply)),
        )
