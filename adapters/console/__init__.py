"""The console adapter: the embedded default, a REPL and a script runner (ADP-1)."""

from __future__ import annotations

import sys

from aiohttp import web

from adapters.console.adapter import ConsoleAdapter
from adapters.console.config import ConsoleConfig
from adapters.console.demo import add_commands
from bot.port import Plugin, Port


def create(settings: ConsoleConfig, port: Port, http: web.Application) -> ConsoleAdapter | None:
    """A REPL on ``backline run`` when stdin is a terminal; nothing to run otherwise."""
    if not sys.stdin.isatty():
        return None
    return ConsoleAdapter(port, echo=False, member=settings.member, repl=True)


PLUGIN = Plugin("console", ConsoleConfig, create, add_commands=add_commands)
