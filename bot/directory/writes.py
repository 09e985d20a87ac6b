"""Prepared writes: a statement and its rows, run whole or in bounded batches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

Row = Sequence[Any]


@dataclass(frozen=True)
class Write:
    """One ``executemany``: ``sql`` with each of ``rows``."""

    sql: str
    rows: Sequence[Row]

    def run(self, conn: sqlite3.Connection) -> None:
        """Execute it on ``conn``, inside the caller's transaction."""
        conn.executemany(self.sql, self.rows)


def batches(writes: Iterable[Write], size: int) -> Iterator[list[Write]]:
    """The writes, in order, cut into groups of at most ``size`` rows each."""
    group: list[Write] = []
    room = size
    for write in writes:
        start = 0
        while start < len(write.rows):
            part = write.rows[start : start + room]
            group.append(type(write)(write.sql, part))
            start += len(part)
            room -= len(part)
            if room == 0:
                yield group
                group, room = [], size
    if group:
        yield group


def run_all(conn: sqlite3.Connection, writes: Iterable[Write]) -> None:
    """Execute every write, in order."""
    for write in writes:
        write.run(conn)
