"""Sending on XMPP (ADP-4, MSG-2, MSG-3): each commit's batch goes out as stanzas.

Messages wait while the server is away; a message a member's server bounced because they are
offline is parked until they are online again. Customers are reached at the address the
core's address book keeps, from the routing address they wrote to.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING

from adapters.xmpp.convert import Bounce, StanzaOut, bare, to_customer, to_member

if TYPE_CHECKING:
    from adapters.xmpp.connection import Connection
    from adapters.xmpp.contacts import Contacts
    from bot.port import Batch, Outgoing, Port

log = logging.getLogger("backline.xmpp")

OFFLINE = frozenset({"service-unavailable", "recipient-unavailable"})
PARK_LIMIT = 200  # messages kept per offline member; the oldest go first
SENT_MEMORY = 2000  # sent messages remembered by id, to park the ones that bounce


class Outlet:
    """Turns batches into stanzas; holds them while the stream is down."""

    def __init__(self, port: Port, link: Connection, contacts: Contacts, me: str) -> None:
        self.port = port
        self.link = link
        self.contacts = contacts
        self.me = me
        self.held: list[StanzaOut] = []  # while the server is away
        self.parked: dict[str, list[StanzaOut]] = {}  # bounced: member offline
        self.sent: OrderedDict[str, StanzaOut] = OrderedDict()

    async def send(self, batch: Batch) -> None:
        """Deliver one commit's messages, then refresh the interaction contacts it changed."""
        for message in batch.messages:
            self.deliver(message)
        if not self.link.client_mode:
            self.contacts.refresh(batch.touched)

    def deliver(self, message: Outgoing) -> None:
        """One message as a chat, or a headline for a system message (MSG-3)."""
        if message.to_customer:
            out = to_customer(message.say, message.address, message.via or self.me)
            if out is not None:
                self.emit(out)
            return
        jid = bare(message.address)
        client = self.link.client_mode
        self.emit(to_member(message.say, jid, self.me, client=client))
        if message.interaction and not client:
            self.contacts.show_interaction(jid, message.interaction)

    def emit(self, out: StanzaOut) -> None:
        """Send now, or hold it until the server is back."""
        stream = self.link.stream
        if not self.link.connected or stream is None:
            self.held.append(out)
            return
        msg = stream.make_message(
            mto=out.to, mbody=out.body, mtype=out.type, mfrom=out.frm, msubject=out.subject
        )
        msg["id"] = secrets.token_hex(8)
        if out.type == "chat":
            msg["chat_state"] = "active"
        self.sent[msg["id"]] = out
        while len(self.sent) > SENT_MEMORY:
            self.sent.popitem(last=False)
        msg.send()

    def flush(self) -> None:
        """Send what was held while the server was away, in order."""
        held, self.held = self.held, []
        for out in held:
            self.emit(out)

    def bounced(self, bounce: Bounce) -> None:
        """A message the server returned: park it if its member is offline, else log it."""
        out = self.sent.pop(bounce.id, None) if bounce.id else None
        if out is None:
            return
        is_member = self.port.member(bare(out.to)) is not None
        if is_member and bounce.condition in OFFLINE:
            box = self.parked.setdefault(bare(out.to), [])
            box.append(out)
            del box[:-PARK_LIMIT]
            return
        log.warning("xmpp: %s refused a message (%s); dropped", out.to, bounce.condition)

    def unpark(self, jid: str) -> None:
        """Deliver what bounced while the member was offline, in order."""
        for out in self.parked.pop(jid, []):
            self.emit(out)
