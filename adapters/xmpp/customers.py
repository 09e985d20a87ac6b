"""Customers on XMPP (INT-2): an outside JID chats to a routing address, or goes offline.

A customer is their bare JID in the core's address book (``via`` the routing address they
wrote to), so two customers with the same local part on different domains never meet, and
replies find them again after a restart.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from adapters.xmpp.convert import PLATFORM, CustomerText, StanzaOut, bare, domain, localpart
from adapters.xmpp.outlet import SENT_MEMORY
from bot.port import Address, CommandError

if TYPE_CHECKING:
    from adapters.xmpp.contacts import Contacts
    from adapters.xmpp.outlet import Outlet
    from bot.port import Port


def customer_address(jid: str, via: str = "") -> Address:
    """A customer's address: their bare JID, written to ``via``."""
    return Address(PLATFORM, bare(jid), bare(via) if via else "")


class Customers:
    """Turns customers' chats into arrivals, lines and hang-ups, each retried stanza once.

    A customer's presence is asked for when their chat opens (a subscription from the
    routing address), so a client that simply goes offline ends the chat after
    ``customers.offline_grace``.
    """

    def __init__(self, port: Port, outlet: Outlet, contacts: Contacts) -> None:
        self.port = port
        self.outlet = outlet
        self.contacts = contacts
        self.seen_ids: OrderedDict[str, None] = OrderedDict()

    async def text(
        self, text: CustomerText, stanza_id: str | None, reply_type: str = "chat"
    ) -> bool:
        """An outside JID chats to a routing address: arrive, say, or hang up (INT-2).

        Whether it was taken (stored and passed on): only then is a receipt due.
        """
        if stanza_id:
            seen = f"{bare(text.jid)}/{stanza_id}"
            if seen in self.seen_ids:
                return True  # a retried delivery acts once
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
                self.contacts.send_presence(bare(text.jid), text.address, "subscribe")
            elif live is not None and text.bye:
                await self.port.customer_left(address)
            elif live is not None:
                await self.port.customer_said(
                    address, text.text, origin=stanza_id, corrects=text.corrects
                )
        except CommandError as exc:
            sorry = StanzaOut(text.jid, text.address, reply_type, f"Sorry: {exc.message}")
            self.outlet.emit(sorry)
            if live is not None:
                why = f"A message from {bare(text.jid)} in {live} could not be delivered"
                await self.outlet.tell_owner(live, f"{why} ({exc.message}): {text.text[:200]}")
            return False
        return True

    async def presence(self, jid: str, *, online: bool) -> None:
        """A customer's client went offline (their chat ends after the grace) or is back."""
        address = customer_address(jid)
        if self.port.customer_interaction(address) is not None:
            await self.port.customer_offline(address, offline=not online)
