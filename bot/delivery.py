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
    """Sends each message through every outlet that is up and reaches its recipient.

    A message whose only outlets are down waits for one of them to come back (nothing
    accepted is lost); ``up`` delivers what waited, in order.
    """

    def __init__(self, outlets: Iterable[Outlet] = ()) -> None:
        self.outlets: list[Outlet] = list(outlets)
        self.down: set[str] = set()
        self.waiting: list[Say] = []

    def attach(self, outlet: Outlet) -> None:
        """Add an adapter."""
        self.outlets.append(outlet)

    def detach(self, outlet: Outlet) -> None:
        """Remove an adapter (it stopped)."""
        self.outlets.remove(outlet)

    def platforms(self) -> list[str]:
        """Names of the attached adapters."""
        return [o.name for o in self.outlets]

    def mark(self, name: str, *, up: bool) -> None:
        """Record that adapter ``name`` went down or came back."""
        if up:
            self.down.discard(name)
        else:
            self.down.add(name)

    async def deliver(self, messages: Sequence[Say]) -> None:
        """Send every message; one that no adapter reaches now waits, and is logged."""
        for message in messages:
            reaching = [o for o in self.outlets if o.reaches(message.to)]
            live = [o for o in reaching if o.name not in self.down]
            if reaching and not live:
                self.waiting.append(message)
                continue
            if not reaching:
                log.warning("no adapter reaches %s; message kept in the log only", message.to)
            for outlet in live:
                await outlet.send(message)

    async def flush(self) -> None:
        """Deliver the messages that waited for an adapter to come back."""
        waiting, self.waiting = self.waiting, []
        await self.deliver(waiting)
