"""The XMPP adapter: a component (XEP-0114) or a client account (ADP-4, ADP-6)."""

from __future__ import annotations

from aiohttp import web

from adapters.xmpp.adapter import XmppAdapter
from adapters.xmpp.config import XmppConfig
from adapters.xmpp.migrations import MIGRATIONS
from bot.port import Plugin, Port

__all__ = ["MIGRATIONS", "PLUGIN", "XmppAdapter", "XmppConfig", "create"]


def create(settings: XmppConfig, port: Port, http: web.Application) -> XmppAdapter:
    """The adapter ``[xmpp] enabled = true`` asks for; serve attaches and starts it."""
    return XmppAdapter(port, settings)


PLUGIN = Plugin("xmpp", XmppConfig, create, migrations=MIGRATIONS)
