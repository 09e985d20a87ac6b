"""Customers on XMPP (INT-2): an outside JID chats to a routing address, or goes offline."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import TYPE_CHECKING

from adapters.xmpp.convert import CustomerText, Outgoing, bare
from adapters.xmpp.outlet import SENT_MEMORY
from bot.errors import CommandError

if TYPE_CHECKING:
    from adapters.xmpp.outlet import Outlet
    from bot.core import Core


class Customers:
    """Turns customers' chats into arrivals, lines and hang-ups, each retried stanza once."""

    def __init__(self, core: Core, outlet: Outlet) -> None:
        self.core = core
        self.outlet = outlet
        self.seen_ids: OrderedDict[str, None] = OrderedDict()

    async def text(self, text: CustomerText, stanza_id: str | None) -> None:
        """An outside JID chats to a routing address: arrive, say, or hang up (INT-2)."""
        if stanza_id:
            seen = f"{bare(text.jid)}/{stanza_id}"
            if seen in self.seen_ids:
                return  # a retried delivery acts once
            self.seen_ids[seen] = None
            while len(self.seen_ids) > SENT_MEMORY:
                self.seen_ids.popitem(last=False)
        name = self.outlet.customer(text.jid, text.address)
        customers = self.core.engine.customers

        async def act() -> None:
            if customers.interaction_of(name) is None:
                if text.bye:
                    return
                await customers.arrive("chat", name, text.target, text.text)
            elif text.bye:
                await customers.hang_up(name)
            else:
                await customers.say(name, text.text)

        try:
            await self.core.act(act)
        except CommandError as exc:
            self.outlet.emit(Outgoing(text.jid, text.address, "chat", f"Sorry: {exc.message}"))

    async def gone(self, jid: str) -> None:
        """A customer's client went offline: their chat ends (INT-2)."""
        name = next((n for n, j in self.outlet.customer_jids.items() if j == jid), None)
        if name is None or self.core.engine.customers.interaction_of(name) is None:
            return
        with contextlib.suppress(CommandError):
            await self.core.act(lambda: self.core.engine.customers.hang_up(name))
