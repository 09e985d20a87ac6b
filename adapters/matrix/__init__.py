"""The Matrix adapter: an application service on mautrix-python (ADP-3, ADP-6)."""

from __future__ import annotations

from aiohttp import web

from adapters.matrix.adapter import MatrixAdapter
from adapters.matrix.config import MatrixConfig
from adapters.matrix.migrations import MIGRATIONS
from adapters.matrix.registration import add_commands
from bot.port import Plugin, Port

__all__ = ["MIGRATIONS", "PLUGIN", "MatrixAdapter", "MatrixConfig", "create"]


def create(settings: MatrixConfig, port: Port, http: web.Application) -> MatrixAdapter:
    """The adapter ``[matrix] enabled = true`` asks for; its routes go on backline's app."""
    return MatrixAdapter(port, settings, http)


PLUGIN = Plugin("matrix", MatrixConfig, create, migrations=MIGRATIONS, add_commands=add_commands)
