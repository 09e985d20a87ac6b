"""Stanzas in (ADP-4): members' commands, customers' chats, bounces and refusals.

slixmpp events go through one queue and one worker, so each sender's stanzas act in the order
they arrived; ``convert`` says what a message means.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from adapters.xmpp.convert import (
    BYE_WORDS,
    Bounce,
    CustomerText,
    Ignore,
    MemberCommand,
    MessageIn,
    Refuse,
    StanzaOut,
    bare,
    classify,
)
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

    # -- slixmpp events -> the queue -------------------------------------------------------

    def message(self, msg: Any) -> None:
        """Queue a message, acknowledging it first if the sender asked for a receipt."""
        if msg["type"] == "error":
            return  # handled by message_error
        if msg["request_receipt"] and msg["id"] and self.link.stream is not None:
            ack = self.link.stream.make_message(mto=msg["from"], mfrom=msg["to"])
            ack["receipt"] = msg["id"]  # XEP-0184, from the address it was sent to
            ack.send()
        self.inbox.put_nowait(
            MessageIn(str(msg["from"]), str(msg["to"]), msg["type"], msg["body"], msg["id"] or None)
        )

    def message_error(self, msg: Any) -> None:
        """Queue a message error (a bounce, perhaps)."""
        self.inbox.put_nowait(
            MessageIn(
                str(msg["from"]),
                str(msg["to"]),
                "error",
                None,
                msg["id"] or None,
                msg["error"]["condition"],
            )
        )

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
        """Act on one message: a member's command, a customer's chat, a bounce."""
        match classify(msg, self.me, client=self.link.client_mode):
            case MemberCommand() as command:
                await self.member_command(msg, command)
            case CustomerText() as text:
                await self.customers.text(text, msg.id)
            case Bounce() as bounce:
                self.outlet.bounced(bounce)
            case Refuse(condition=condition, text=text):
                self.refuse(msg, condition, text)
            case Ignore():
                pass

    async def member_command(self, msg: MessageIn, command: MemberCommand) -> None:
        """Run a member's command; the reply comes from the address they wrote to."""
        if self.link.client_mode and self.port.member(command.sender) is None:
            text = CustomerText(
                msg.frm,
                self.me,
                self.config.client_route,
                command.text,
                bye=command.text.lower() in BYE_WORDS,
            )
            await self.customers.text(text, msg.id)
            return
        self.contacts.subscribe(command.sender)
        frm = bare(msg.to)

        async def respond(reply: Reply) -> None:
            if reply.text:
                self.outlet.emit(StanzaOut(bare(msg.frm), frm, "chat", reply.text))

        await self.port.command(
            command.sender, command.text, respond, key=command.key, context=command.context
        )
        if command.context and not self.link.client_mode:
            self.contacts.show_interaction(command.sender, command.context)

    def refuse(self, msg: MessageIn, condition: str, text: str) -> None:
        """Answer a stanza we cannot take with a stanza error that says why."""
        stream = self.link.stream
        if stream is None:
            return
        error = stream.make_message(mto=msg.frm, mfrom=msg.to, mtype="error")
        if msg.id:
            error["id"] = msg.id
        error["error"]["type"] = "modify"
        error["error"]["condition"] = condition
        error["error"]["text"] = text
        error.send()
