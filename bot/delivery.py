"""Routing each commit's messages to the adapters that reach their recipients, as batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.outbound import Say
from bot.port.plugin import Adapter
from bot.port.types import Address, Batch, Outgoing, Unsupported

log = logging.getLogger("backline.delivery")

# Where a member is on a platform: their handle there, or None.
HandleOf = Callable[[str, str], str | None]
# Where a customer is: their address, or None.
AddressOf = Callable[[str], Address | None]


@dataclass
class Delivery:
    """Sends one batch per commit to every adapter that is up.

    A message whose only adapters are down waits for one of them to come back (nothing
    accepted is lost); ``flush`` delivers what waited, in order.
    """

    handle_of: HandleOf
    address_of: AddressOf
    adapters: dict[str, Adapter] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    waiting: list[Say] = field(default_factory=list)

    def attach(self, adapter: Adapter) -> None:
        """Add an adapter."""
        self.adapters[adapter.name] = adapter

    def detach(self, adapter: Adapter) -> None:
        """Remove an adapter (it stopped)."""
        if self.adapters.get(adapter.name) is adapter:
            del self.adapters[adapter.name]

    def platforms(self) -> list[str]:
        """Names of the attached adapters."""
        return list(self.adapters)

    def mark(self, name: str, *, up: bool) -> None:
        """Record that adapter ``name`` went down or came back."""
        if up:
            self.down.discard(name)
        else:
            self.down.add(name)

    def route(self, message: Say) -> dict[str, Outgoing]:
        """Every attached adapter that reaches the recipient, with the address there."""
        out: dict[str, Outgoing] = {}
        to = message.to
        member = to[1:] if to.startswith("@") else None
        found = self.address_of(to[9:]) if to.startswith("customer:") else None
        for name, adapter in self.adapters.items():
            if getattr(adapter, "reaches_everyone", False):
                out[name] = Outgoing(message, to)
            elif member is not None:
                handle = self.handle_of(member, name)
                if handle is not None:
                    out[name] = Outgoing(message, handle)
            elif found is not None and found.platform == name:
                out[name] = Outgoing(message, found.address, found.via)
        return out

    async def deliver(
        self, messages: Sequence[Say], touched: frozenset[str] = frozenset()
    ) -> list[tuple[str, Unsupported]]:
        """Send each adapter its batch; returns what adapters could not render."""
        if not messages and not touched:
            return []
        batches: dict[str, list[Outgoing]] = {name: [] for name in self.adapters}
        down = self.down
        for message in messages:
            reaching = self.route(message)
            if not reaching:
                log.warning("no adapter reaches %s; message kept in the log only", message.to)
                continue
            live = (
                [(n, o) for n, o in reaching.items() if n not in down] if down else reaching.items()
            )
            if not live:
                self.waiting.append(message)
            for name, outgoing in live:
                batches[name].append(outgoing)
        refused: list[tuple[str, Unsupported]] = []
        for name, adapter in list(self.adapters.items()):
            if name in self.down or not (batches[name] or touched):
                continue
            try:
                await adapter.send(Batch(tuple(batches[name]), touched))
            except Unsupported as exc:
                refused.append((name, exc))
        return refused

    async def flush(self) -> list[tuple[str, Unsupported]]:
        """Deliver the messages that waited for an adapter to come back."""
        waiting, self.waiting = self.waiting, []
        return await self.deliver(waiting)
