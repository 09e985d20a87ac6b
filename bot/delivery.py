"""Routing outbound messages to the adapters that reach each recipient."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from bot.outbound import Say

log = logging.getLogger("backline.delivery")


class Outlet(Protocol):
    """An adapter seen from the core: who it reaches and how it sends."""

    name: str

    def reaches(self, recipient: str) -> bool:
        """Whether this adapter can deliver to ``@member`` or ``customer:NAME``."""

    async def send(self, message: Say) -> None:
        """Deliver one message."""


class Delivery:
    """Sends each message through every outlet that reaches its recipient."""

    def __init__(self, outlets: Iterable[Outlet] = ()) -> None:
        self.outlets: list[Outlet] = list(outlets)

    def attach(self, outlet: Outlet) -> None:
        """Add an adapter."""
        self.outlets.append(outlet)

    def detach(self, outlet: Outlet) -> None:
        """Remove an adapter (it stopped)."""
        self.outlets.remove(outlet)

    async def deliver(self, messages: Sequence[Say]) -> None:
        """Send every message; a recipient nobody reaches is logged, not dropped silently."""
        for message in messages:
            outlets = [o for o in self.outlets if o.reaches(message.to)]
            if not outlets:
                log.warning("no adapter reaches %s; message kept in the log only", message.to)
            for outlet in outlets:
                await outlet.send(message)
