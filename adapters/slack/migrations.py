"""The Slack adapter's own tables, as numbered migrations with their own version rows.

``serve`` runs them with the core's migrator before the adapter is created.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("slack")


@MIGRATIONS(name="0001_threads")
def _threads(db: Database) -> None:
    # Each lane's channel, and each interaction card (the parent of its thread) per lane.
    # IF NOT EXISTS adopts the tables releases before these migrations created on start.
    db.execute(
        "CREATE TABLE IF NOT EXISTS slack_channels (lane TEXT PRIMARY KEY, channel TEXT NOT NULL)"
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS slack_cards (
            lane TEXT NOT NULL, interaction_id TEXT NOT NULL, channel TEXT NOT NULL,
            ts TEXT NOT NULL, digest TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (lane, interaction_id)
        )"""
    )
