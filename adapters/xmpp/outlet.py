"""Sending on XMPP (ADP-4, MSG-2, MSG-3): what the core delivers goes out as stanzas.

Messages wait while the server is away; a message a member's server bounced because they are
offline is parked until they are online again.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING

from adapters.xmpp.convert import (
    PLATFORM,
    Bounce,
    Outgoing,
    bare,
    customer_name,
    to_customer,
    to_member,
)
from bot.outbound import Say

if TYPE_CHECKING:
    from adapters.xmpp.connection import Connection
    from adapters.xmpp.contacts import Contacts
    from bot.core import Core

log = logging.getLogger("backline.xmpp")

OFFLINE = frozenset({"service-unavailable", "recipient-unavailable"})
PARK_LIMIT = 200  # messages kept per offline member; the oldest go first
SENT_MEMORY = 2000  # sent messages remembered by id, to park the ones that bounce


class Outlet:
    """Members and customers on XMPP, seen from the core as the outlet ``xmpp``."""

    name = PLATFORM

    def __init__(self, core: Core, link: Connection, contacts: Contacts, me: str) -> None:
        self.core = core
        self.link = link
        self.contacts = contacts
        self.me = me
        self.held: list[Outgoing] = []  # while the server is away
        self.parked: dict[str, list[Outgoing]] = {}  # bounced: member offline
        self.sent: OrderedDict[str, Outgoing] = OrderedDict()
        self.customer_jids: dict[str, str] = {}  # customer name -> bare JID
        self.customer_full: dict[str, str] = {}  # customer name -> last full JID
        self.customer_address: dict[str, str] = {}  # customer name -> routing address

    def reaches(self, recipient: str) -> bool:
        """Members with an XMPP identity; customers who wrote from an XMPP JID."""
        if recipient.startswith("@"):
            return self.member_jid(recipient[1:]) is not None
        if recipient.startswith("customer:"):
            return recipient.removeprefix("customer:") in self.customer_jids
        return False

    def member_jid(self, member_id: str) -> str | None:
        """The member's bare JID, if they have one."""
        handle = self.core.directory.identities.handles(member_id).get(PLATFORM)
        return bare(handle) if handle else None

    def customer(self, jid: str, address: str) -> str:
        """Remember the customer writing from ``jid`` to ``address``; their name."""
        name = customer_name(jid, self.customer_jids)
        self.customer_jids[name] = bare(jid)
        self.customer_full[name] = jid
        self.customer_address[name] = address
        return name

    async def send(self, message: Say) -> None:
        """Deliver one message as a chat, or a headline for a system message (MSG-3)."""
        if message.to.startswith("customer:"):
            name = message.to.removeprefix("customer:")
            out = to_customer(message, self.customer_full[name], self.customer_address[name])
            if out is not None:
                self.emit(out)
            return
        jid = self.member_jid(message.to.removeprefix("@"))
        if jid is None:
            return
        client = self.link.client_mode
        self.emit(to_member(message, jid, self.me, client=client))
        if message.interaction and not client:
            self.contacts.show_interaction(jid, message.interaction)

    def emit(self, out: Outgoing) -> None:
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
        is_member = self.core.directory.identify(PLATFORM, bare(out.to)) is not None
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
