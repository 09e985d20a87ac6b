"""The XMPP adapter's own tables, as numbered migrations with their own version rows.

``serve`` runs them with the core's migrator before the adapter is created.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("xmpp")


@MIGRATIONS(name="0001_held_and_roster")
def _held_and_roster(db: Database) -> None:
    # Messages for members who are offline, in the order they were meant to arrive.
    db.execute(
        """CREATE TABLE IF NOT EXISTS xmpp_held (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL, frm TEXT NOT NULL,
            type TEXT NOT NULL, body TEXT NOT NULL, subject TEXT
        )"""
    )
    # The component's roster: who subscribed to which of our JIDs (sub_from), and whose
    # presence we are subscribed to (sub_to). Kept, so a re-login never loses ``both``.
    db.execute(
        """CREATE TABLE IF NOT EXISTS xmpp_roster (
            ours TEXT NOT NULL, jid TEXT NOT NULL,
            sub_from INTEGER NOT NULL DEFAULT 0, sub_to INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (ours, jid)
        )"""
    )
