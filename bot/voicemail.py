"""Leaving a voicemail: a message in a personal or group mailbox (TRF-6, GRP-3 fallback)."""

from __future__ import annotations

import sqlite3


def deposit(
    conn: sqlite3.Connection,
    mailbox: str,
    caller: str,
    at: float,
    *,
    text: str | None = None,
    duration: float = 0.0,
    media: str | None = None,
) -> int:
    """Store a new message in ``mailbox``; returns its id."""
    cursor = conn.execute(
        "INSERT INTO voicemails (mailbox, caller, at, duration, media, text, status)"
        " VALUES (?, ?, ?, ?, ?, ?, 'new')",
        (mailbox, caller, at, duration, media, text),
    )
    return int(cursor.lastrowid or 0)


def group_mailbox(conn: sqlite3.Connection, group_id: str) -> str | None:
    """The mailbox a group shares, if it has one."""
    row = conn.execute(
        "SELECT id FROM mailboxes WHERE kind = 'group' AND owner = ? ORDER BY id", (group_id,)
    ).fetchone()
    return None if row is None else str(row[0])
