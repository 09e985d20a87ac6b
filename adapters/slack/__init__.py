"""The Slack adapter (ADP-2): slash command, Block Kit cards, App Home, HTTP or Socket Mode."""

from __future__ import annotations

from aiohttp import web

from adapters.slack.adapter import SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.migrations import MIGRATIONS
from bot.port import Plugin, Port


def create(settings: SlackConfig, port: Port, http: web.Application) -> SlackAdapter:
    """The adapter on backline's HTTP server (``[slack] mode = "http"``) or Socket Mode."""
    return SlackAdapter(settings, port, http)


PLUGIN = Plugin("slack", SlackConfig, create, migrations=MIGRATIONS)
