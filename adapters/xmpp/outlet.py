"""Sending on XMPP (ADP-4, MSG-2, MSG-3): each commit's batch goes out as stanzas.

Messages wait in memory while the server is away. A member who is offline (their presence
said so, or the server bounced a message as ``service-unavailable``) has their messages held
durably (``held``) and delivered in order when they are back; the first one held in a spell
gives them a note on their other platforms, and the core starts ``routing.offline_grace``.
No stanza is larger than ``xmpp.max_stanza``: long bodies go out in parts. Customers are
reached at the address the core's address book keeps, from the routing address they wrote to.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

from adapters.xmpp import wire
from adapters.xmpp.convert import Bounce, StanzaOut, bare, to_customer, to_member
from adapters.xmpp.held import Held
from adapters.xmpp.sizes import split_body
from bot.port import Posted, relaying, unmarked

if TYPE_CHECKING:
    from adapters.xmpp.connection import Connection
    from adapters.xmpp.contacts import Contacts
    from bot.port import Batch, ChatState, Outgoing, Port, Relay

log = logging.getLogger("backline.xmpp")

OFFLINE = frozenset({"service-unavailable", "recipient-unavailable"})
SENT_MEMORY = 2000  # sent messages remembered by id, to hold the ones that bounce
HELD_NOTE = (
    "You are offline on XMPP: messages for you there are held and will arrive in order"
    " when you are back."
)


class Outlet:
    """Turns batches into stanzas; holds them while the stream is down or a member away."""

    def __init__(
        self, port: Port, link: Connection, contacts: Contacts, me: str, max_stanza: int
    ) -> None:
        self.port = port
        self.link = link
        self.contacts = contacts
        self.me = me
        self.max_stanza = max_stanza
        self.held: list[StanzaOut] = []  # while the server is away
        self.parked = Held(port.store)  # members offline: durable
        self.offline: set[str] = set()  # members whose presence says offline
        self.noted: set[str] = set()  # told elsewhere in this offline spell
        self.sent: OrderedDict[str, StanzaOut] = OrderedDict()
        self.posted = Posted()  # relays by original, to send corrections as edits (ADP-6)

    async def send(self, batch: Batch) -> None:
        """Deliver one commit's messages, then refresh the interaction contacts it changed."""
        shown: set[tuple[str, str]] = set()
        for message in batch.messages:
            await self.deliver(message, shown)
        if not self.link.client_mode:
            for jid, iid in shown:  # each contact once per batch, however many messages
                self.contacts.show_interaction(jid, iid)
            self.contacts.refresh(batch.touched, done=shown)

    async def deliver(self, message: Outgoing, shown: set[tuple[str, str]]) -> None:
        """One message as a chat, or a headline for a system message (MSG-3)."""
        relay = relaying() if message.interaction and not message.say.notice else None
        if message.to_customer:
            out = to_customer(message.say, message.address, message.via or self.me)
            if out is not None:
                self.relay(out, relay)
            return
        jid = bare(message.address)
        client = self.link.client_mode
        out = to_member(message.say, jid, self.me, client=client)
        if jid in self.offline or self.parked.waiting(jid):
            await self.park(out)
            return
        self.contacts.subscribe(jid)  # a member linked just now is asked for presence at once
        self.relay(out, relay)
        if message.interaction and not client:
            shown.add((jid, message.interaction))

    def relay(self, out: StanzaOut, relay: Relay | None) -> None:
        """Send ``out``; a correction goes as an edit of what we sent for the original."""
        original = self.posted.edits(relay, out.to, out.body)
        if original is not None:
            out = replace(out, body=unmarked(out.body), corrects=original)
        mid = self.emit(out)
        if mid is not None:
            self.posted.remember(relay, out.to, mid)

    def emit(self, out: StanzaOut) -> str | None:
        """Send now (in parts under ``max_stanza``), or hold it until the server is back.

        The id of its first stanza, if it went out now.
        """
        stream = self.link.stream
        if not self.link.connected or stream is None:
            self.held.append(out)
            return None
        state = "active" if out.type == "chat" else None
        first = None
        for body in split_body(out.body, self.max_stanza):
            mid = secrets.token_hex(8)
            first = first or mid
            self.sent[mid] = out
            xml = wire.message(
                to=out.to, frm=out.frm, mtype=out.type, body=body, mid=mid,
                subject=out.subject, chat_state=state, corrects=out.corrects,
            )  # fmt: skip
            wire.write(stream, xml)
        while len(self.sent) > SENT_MEMORY:
            self.sent.popitem(last=False)
        return first

    def emit_states(self, states: list[ChatState]) -> None:
        """Chat states (XEP-0085): only to parties online now; never held."""
        stream = self.link.stream
        if not self.link.connected or stream is None:
            return
        for state in states:
            to = bare(state.address)
            if state.to_customer:
                frm = state.via or self.me
            elif to in self.offline or self.link.client_mode:
                continue
            else:
                frm = f"{state.interaction}@{self.me}"
            wire.write(stream, wire.chat_state(to=to, frm=frm, state=state.state))

    def flush(self) -> None:
        """Send what was held while the server was away, in order."""
        held, self.held = self.held, []
        for out in held:
            self.emit(out)

    async def park(self, out: StanzaOut) -> None:
        """Hold a member's message durably; the first in a spell is noted elsewhere (MSG-2)."""
        jid = bare(out.to)
        await self.parked.hold(out)
        if jid in self.noted:
            return
        self.noted.add(jid)
        member = self.port.member(jid)
        if member is None:
            return
        if jid not in self.offline:  # learned from a bounce: the grace starts now
            self.offline.add(jid)
            await self.port.member_offline(jid, offline=True)
        await self.port.notify(member.id, HELD_NOTE)

    async def bounced(self, bounce: Bounce) -> None:
        """A message the server returned: held if its member is offline; else reported."""
        out = self.sent.pop(bounce.id, None) if bounce.id else None
        if out is None:
            return
        jid = bare(out.to)
        member = self.port.member(jid)
        if member is not None and bounce.condition in OFFLINE:
            await self.park(out)
            return
        log.warning("xmpp: %s refused a message (%s)", out.to, bounce.condition)
        if member is None and out.iid:
            why = f"{out.to} did not receive a message in {out.iid} ({bounce.condition})"
            await self.tell_owner(out.iid, f"{why}: {out.body[:200]}")

    async def tell_owner(self, iid: str, text: str) -> None:
        """Tell the owner of interaction ``iid`` (on their platforms) what went wrong."""
        view = self.port.interaction_view(iid, None)
        if view is not None and view.owner is not None:
            await self.port.notify(view.owner, text)

    async def release(self, jid: str) -> None:
        """The member is back: deliver what was held for them, in order."""
        self.offline.discard(jid)
        self.noted.discard(jid)
        while self.parked.waiting(jid) and jid not in self.offline and self.link.connected:
            rows = self.parked.peek(jid)
            for _, out in rows:
                self.emit(out)
            await self.parked.done(jid, rows[-1][0] if rows else 0)
