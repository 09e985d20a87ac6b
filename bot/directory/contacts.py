"""Favourites and recent contacts of each member (DIR-4)."""

from __future__ import annotations

import sqlite3

from bot.clock import Clock


class Contacts:
    """Per-member favourites and recents, stored in SQLite."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock

    def favourites(self, member_id: str) -> list[str]:
        """The member's favourite targets, oldest first."""
        rows = self.conn.execute(
            "SELECT target FROM favourites WHERE member_id = ? ORDER BY at, target", (member_id,)
        )
        return [r[0] for r in rows]

    def add_favourite(self, member_id: str, ref: str) -> bool:
        """Add a favourite; False if it already was one."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO favourites (member_id, target, at) VALUES (?, ?, ?)",
            (member_id, ref, self.clock.now()),
        )
        return cursor.rowcount > 0

    def remove_favourite(self, member_id: str, ref: str) -> bool:
        """Remove a favourite; False if it was not one."""
        cursor = self.conn.execute(
            "DELETE FROM favourites WHERE member_id = ? AND target = ?", (member_id, ref)
        )
        return cursor.rowcount > 0

    def recents(self, member_id: str, limit: int = 10) -> list[str]:
        """Targets the member contacted most recently, newest first."""
        rows = self.conn.execute(
            "SELECT target FROM recents WHERE member_id = ? ORDER BY at DESC, target LIMIT ?",
            (member_id, limit),
        )
        return [r[0] for r in rows]

    def failed_recently(self, member_id: str, ref: str) -> bool:
        """Whether the member's last attempt to reach ``ref`` failed (offers ``retry``)."""
        row = self.conn.execute(
            "SELECT failed FROM recents WHERE member_id = ? AND target = ?", (member_id, ref)
        ).fetchone()
        return bool(row and row[0])

    def record_contact(self, member_id: str, ref: str, *, failed: bool = False) -> None:
        """Remember that the member contacted ``ref`` (an IM, a consultation, a transfer)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO recents (member_id, target, at, failed) VALUES (?, ?, ?, ?)",
            (member_id, ref, self.clock.now(), int(failed)),
        )
