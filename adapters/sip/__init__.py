"""The SIP adapter: phones register, trunks call in, the engine's calls become real (ADP-5)."""

from __future__ import annotations

from aiohttp import web

from adapters.sip.adapter import SipAdapter
from adapters.sip.config import SipConfig
from bot.port import Plugin, Port

__all__ = ["PLUGIN", "SipAdapter", "SipConfig", "create"]


def create(settings: SipConfig, port: Port, http: web.Application) -> SipAdapter:
    """The adapter ``[sip] enabled = true`` asks for; serve attaches and starts it."""
    return SipAdapter(port, settings)


PLUGIN = Plugin("sip", SipConfig, create)
