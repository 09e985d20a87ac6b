"""The Matrix adapter's own tables, as numbered migrations with their own version rows.

``serve`` runs them with the core's migrator before the adapter is created.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("matrix")


@MIGRATIONS(name="0001_transactions_and_rooms")
def _transactions_and_rooms(db: Database) -> None:
    # Every transaction the homeserver pushed that was handled: a retry acts once.
    db.execute(
        """CREATE TABLE IF NOT EXISTS matrix_txns (
            txn_id TEXT PRIMARY KEY, at REAL NOT NULL
        )"""
    )
    # The rooms backline made or joined, by what they are: a member's desk (``desk:MXID``),
    # an interaction's room shared by its members (``ix:IID``), a customer's chat
    # (``customer:MXID:ROUTE``), a routing lobby (``lobby:ROUTE``). ``speaker`` is who
    # speaks there for backline (the bot or a routing puppet); ``shown`` the name last set.
    db.execute(
        """CREATE TABLE IF NOT EXISTS matrix_rooms (
            key TEXT PRIMARY KEY, room_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            mxid TEXT NOT NULL DEFAULT '', iid TEXT NOT NULL DEFAULT '',
            speaker TEXT NOT NULL, shown TEXT NOT NULL DEFAULT '',
            open INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS matrix_rooms_iid ON matrix_rooms (iid)")
    # Who backline invited into each room and has not removed: a restart invites no one again.
    db.execute(
        """CREATE TABLE IF NOT EXISTS matrix_members (
            room_id TEXT NOT NULL, mxid TEXT NOT NULL, PRIMARY KEY (room_id, mxid)
        )"""
    )
    # Customers' events already taken, so a transaction sent again after a crash adds no line.
    db.execute(
        """CREATE TABLE IF NOT EXISTS matrix_seen (
            event_id TEXT PRIMARY KEY, at REAL NOT NULL
        )"""
    )


@MIGRATIONS(name="0002_crypto")
def _crypto(db: Database) -> None:
    # The bot's device: its id and its pickled Olm account (end-to-end encryption).
    db.execute(
        """CREATE TABLE IF NOT EXISTS matrix_crypto (
            key TEXT PRIMARY KEY, value TEXT NOT NULL
        )"""
    )
