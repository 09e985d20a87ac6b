"""Stanzas in (ADP-4): members' commands, customers' chats, bounces and refusals.

Messages (as ``reader`` read them) and presences go through one queue and one worker, so
each sender's stanzas act in the order they arrived; ``convert`` says what a message means.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from adapters.xmpp import wire
from adapters.xmpp.convert import (
    BYE_WORDS,
    Bounce,
    CustomerText,
    Ignore,
    MemberCommand,
    MessageIn,
    Refuse,
    StanzaOut,
    Typing,
    bare,
    classify,
)
from adapters.xmpp.customers import customer_address
from adapters.xmpp.presence import PresenceIn
from bot.port import Reply, new_ref

if TYPE_CHECKING:
    from adapters.xmpp.config import XmppConfig
    from adapters.xmpp.connection import Connection
    from adapters.xmpp.contacts import Contacts
    from adapters.xmpp.customers import Customers
    from adapters.xmpp.outlet import Outlet
    from adapters.xmpp.presence import Presence
    from bot.port import Port

log = logging.getLogger("backline.xmpp")

Stanza = MessageIn | PresenceIn


def reply_type(msg: MessageIn) -> str:
    """Answer with the type received: ``normal`` gets ``normal``, anything else ``chat``."""
    return "normal" if msg.type == "normal" else "chat"


class Inbound:
    """Queues what the stream reads; the worker turns it into commands and customers' lines."""

    def __init__(
        self,
        port: Port,
        config: XmppConfig,
        link: Connection,
        *,
        outlet: Outlet,
        contacts: Contacts,
        customers: Customers,
        presence: Presence,
    ) -> None:
        self.port = port
        self.config = config
        self.link = link
        self.me = outlet.me
        self.outlet = outlet
        self.contacts = contacts
        self.customers = customers
        self.presences = presence
        self.inbox: asyncio.Queue[Stanza] = asyncio.Queue()

    # -- the stream -> the queue -------------------------------------------------------

    def message(self, msg: MessageIn) -> None:
        """Queue a message, as ``reader`` read it (its receipt is sent once passed on)."""
        self.inbox.put_nowait(msg)

    def presence(self, pres: Any) -> None:
        """Queue a presence."""
        self.inbox.put_nowait(
            PresenceIn(
                str(pres["from"]),
                str(pres["to"]),
                pres["type"],
                pres["show"] or None,
                pres["status"],
            )
        )

    # -- the worker --------------------------------------------------------------------------

    async def work(self) -> None:
        """Handle the queue in order, forever; a failure is logged with a reference."""
        while True:
            item = await self.inbox.get()
            try:
                if isinstance(item, MessageIn):
                    await self.on_message(item)
                else:
                    await self.presences.on_presence(item)
            except Exception:
                log.exception("xmpp: could not handle %r ref=%s", item, new_ref())

    async def on_message(self, msg: MessageIn) -> None:
        """Act on one message: a member's command, a customer's chat, a chat state, a bounce."""
        match classify(msg, self.me, client=self.link.client_mode):
            case MemberCommand() as command:
                await self.member_command(msg, command)
            case CustomerText() as text:
                await self.customer_text(msg, text)
            case Typing() as typing:
                await self.typing(typing)
            case Bounce() as bounce:
                await self.outlet.bounced(bounce)
            case Refuse(condition=condition, text=text):
                self.refuse(msg, condition, text)
                await self.refused_customer(msg, text)
            case Ignore():
                pass

    async def customer_text(self, msg: MessageIn, text: CustomerText) -> None:
        """A chat to a routing address: refused if it names nothing or a member wrote it."""
        if self.port.member(bare(msg.frm)) is not None:
            self.refuse(
                msg,
                "not-allowed",
                f"You are a member here: commands go to {self.me}, chats come to you there.",
            )
        elif not self.port.knows_target(text.target):
            self.refuse(msg, "item-not-found", f"{bare(msg.to)} is not an address here.", "cancel")
        elif await self.customers.text(text, msg.id, reply_type(msg)):
            self.receipt(msg)

    async def refused_customer(self, msg: MessageIn, why: str) -> None:
        """A customer's message that was refused: the owner of their chat hears of it."""
        if self.port.member(bare(msg.frm)) is not None:
            return
        live = self.port.customer_interaction(customer_address(msg.frm))
        if live is not None:
            text = f"A message from {bare(msg.frm)} in {live} could not be delivered: {why}"
            await self.outlet.tell_owner(live, text)

    async def typing(self, typing: Typing) -> None:
        """Relay a chat state to the others in the interaction (XEP-0085)."""
        if typing.iid is not None:
            await self.port.chat_state(typing.jid, typing.state, typing.iid)
        elif self.port.member(typing.jid) is None:
            await self.port.chat_state(customer_address(typing.jid), typing.state)

    async def member_command(self, msg: MessageIn, command: MemberCommand) -> None:
        """Run a member's command; the reply comes from the address they wrote to."""
        sender = command.sender
        if self.link.client_mode and self.port.member(sender) is None:
            text = CustomerText(
                msg.frm,
                self.me,
                self.config.client_route,
                command.text,
                bye=command.text.lower() in BYE_WORDS,
            )
            if await self.customers.text(text, msg.id, reply_type(msg)):
                self.receipt(msg)
            return
        if sender not in self.contacts.subscribed and self.port.member(sender) is not None:
            self.contacts.subscribe(sender)  # once a session: a member's lookup costs
        frm = bare(msg.to)
        mtype = reply_type(msg)

        async def respond(reply: Reply) -> None:
            self.receipt(msg)  # committed: passed on
            if reply.text:
                self.outlet.emit(StanzaOut(bare(msg.frm), frm, mtype, reply.text))

        await self.port.command(
            command.sender,
            command.text,
            respond,
            key=command.key,
            context=command.context,
            origin=msg.id,
            corrects=command.corrects,
        )
        seen = self.contacts.shown.get(command.sender, {})
        if command.context and not self.link.client_mode and command.context not in seen:
            self.contacts.show_interaction(command.sender, command.context)  # else refreshed

    def receipt(self, msg: MessageIn) -> None:
        """Acknowledge a message (XEP-0184) from the address it was sent to."""
        stream = self.link.stream
        if msg.receipt and msg.id and stream is not None and self.link.connected:
            wire.write(stream, wire.receipt(to=msg.frm, frm=msg.to, of=msg.id))

    def refuse(self, msg: MessageIn, condition: str, text: str, kind: str = "modify") -> None:
        """Answer a stanza we cannot take with a stanza error that says why."""
        stream = self.link.stream
        if stream is None:
            return
        error = stream.make_message(mto=msg.frm, mfrom=msg.to, mtype="error")
        if msg.id:
            error["id"] = msg.id
        error["error"]["type"] = kind
        error["error"]["condition"] = condition
        error["error"]["text"] = text
        error.send()
