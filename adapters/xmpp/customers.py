"""Customers on XMPP (INT-2): an outside JID chats to a routing address, or goes offline.

A customer is their bare JID in the core's address book (``via`` the routing address they
wrote to), so two customers with the same local part on different domains never meet, and
replies find them again after a restart.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import TYPE_CHECKING

from adapters.xmpp.convert import PLATFORM, CustomerText, StanzaOut, bare, domain, localpart
from adapters.xmpp.outlet import SENT_MEMORY
from bot.port import Address, CommandError

if TYPE_CHECKING:
    from adapters.xmpp.outlet import Outlet
    from bot.port import Port


def customer_address(jid: str, via: str = "") -> Address:
    """A customer's address: their bare JID, written to ``via``."""
    return Address(PLATFORM, bare(jid), bare(via) if via else "")


class Customers:
    """Turns customers' chats into arrivals, lines and hang-ups, each retried stanza once."""

    def __init__(self, port: Port, outlet: Outlet) -> None:
        self.port = port
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
        address = customer_address(text.jid, text.address)
        live = self.port.customer_interaction(address)
        try:
            if live is None and not text.bye:
                display = localpart(text.jid) or domain(text.jid)
                await self.port.customer_arrived(
                    address, "chat", text.target, text.text, display=display
                )
            elif live is not None and text.bye:
                await self.port.customer_left(address)
            elif live is not None:
                await self.port.customer_said(address, text.text)
        except CommandError as exc:
            self.outlet.emit(StanzaOut(text.jid, text.address, "chat", f"Sorry: {exc.message}"))

    async def gone(self, jid: str) -> None:
        """A customer's client went offline: their chat ends (INT-2)."""
        address = customer_address(jid)
        if self.port.customer_interaction(address) is None:
            return
        with contextlib.suppress(CommandError):
            await self.port.customer_left(address)
