"""Durable state: one SQLite file (WAL), an append-only event log and state tables."""

from bot.storage.sqlite import Store

__all__ = ["Store"]
