"""The XMPP adapter (ADP-4, ADP-6): a slixmpp component (XEP-0114) or client behind the port.

This module assembles the parts and tells the core when the server goes away or comes back:
``connection`` keeps the stream, ``reader`` reads its messages and ``wire`` writes them,
``inbound`` and ``presence`` act on what it reads, ``customers`` on outside JIDs' chats,
``outlet`` sends (holding, and ``held`` for members who are offline), ``contacts`` shows our
JIDs' presence, ``roster`` keeps subscriptions and ``adhoc`` serves the XEP-0050 commands.
``convert`` says what a stanza means.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from adapters.xmpp.adhoc import Commands
from adapters.xmpp.config import XmppConfig
from adapters.xmpp.connection import Connection
from adapters.xmpp.contacts import Contacts
from adapters.xmpp.convert import PLATFORM, MessageIn, StanzaOut, bare
from adapters.xmpp.customers import Customers
from adapters.xmpp.inbound import Inbound
from adapters.xmpp.outlet import Outlet
from adapters.xmpp.presence import Presence
from adapters.xmpp.roster import Roster
from bot.port import Batch, ChatState, Port, new_ref

log = logging.getLogger("backline.xmpp")


class XmppAdapter:
    """Members and customers on XMPP, behind the port ``xmpp``."""

    name = PLATFORM
    reaches_everyone = False

    def __init__(
        self,
        port: Port,
        config: XmppConfig,
        *,
        backoff: float = 0.2,
        connect_timeout: float = 10.0,
    ) -> None:
        self.port = port
        self.config = config
        self.me = bare(config.jid)  # the bot's JID: the component domain or the account
        self.was_down = False
        self.link = Connection(config, self, backoff=backoff, connect_timeout=connect_timeout)
        self.roster = Roster(port.store)
        self.contacts = Contacts(port, self.link, self.me, self.roster)
        self.outlet = Outlet(port, self.link, self.contacts, self.me, config.max_stanza)
        self.customers = Customers(port, self.outlet, self.contacts)
        self.commands = Commands(port, self.contacts, self.me)
        self.presences = Presence(
            port,
            config,
            self.me,
            outlet=self.outlet,
            contacts=self.contacts,
            customers=self.customers,
            roster=self.roster,
        )
        self.inbound = Inbound(
            port,
            config,
            self.link,
            outlet=self.outlet,
            contacts=self.contacts,
            customers=self.customers,
            presence=self.presences,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._worker: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Whether a session is up now."""
        return self.link.connected

    @property
    def held(self) -> list[StanzaOut]:
        """Messages waiting for the server to come back."""
        return self.outlet.held

    def health(self) -> str:
        """``up``, ``connecting`` (never connected yet), ``reconnecting`` or ``down``."""
        return self.link.state

    async def start(self) -> None:
        """Connect (waiting up to ``connect_timeout``) and keep reconnecting in the background."""
        self.roster.open()
        self.outlet.parked.open()
        self._worker = asyncio.create_task(self.inbound.work(), name="xmpp-inbound")
        await self.link.start()

    async def stop(self) -> None:
        """Disconnect and stop listening."""
        await self.link.stop(self._worker, *self._tasks)

    async def abort(self) -> None:
        """Stop listening and cut the stream as a crash would: nothing held is sent."""
        await self.link.stop(self._worker, *self._tasks, abort=True)

    async def send(self, batch: Batch) -> None:
        """Deliver one commit's messages (held while the server is away)."""
        await self.outlet.send(batch)

    async def send_chat_states(self, states: list[ChatState]) -> None:
        """Typing notifications for parties on XMPP (XEP-0085); dropped while disconnected."""
        self.outlet.emit_states(states)

    # -- stream events (connection.StreamEvents) ----------------------------------------

    def up(self, stream: Any) -> None:
        """A session started: subscribe to members, send what was held, say we are back."""
        for member in self.port.members():
            if member.handle:
                self.contacts.subscribe(bare(member.handle))
        self.outlet.flush()
        log.info("xmpp: connected as %s", self.me)
        if self.was_down:
            self.was_down = False
            self._spawn(self.port.adapter_status(up=True))

    def down(self, *, was_connected: bool) -> None:
        """The stream is gone: forget the session's presence, say we are down (once)."""
        self.contacts.forget()
        self.presences.forget()
        if was_connected and not self.was_down:
            self.was_down = True
            self._spawn(self.port.adapter_status(up=False))

    def prepare(self, stream: Any) -> None:
        """A fresh stream: register the ad-hoc commands and disco answers (components)."""
        if not self.link.client_mode:
            self.commands.prepare(stream)

    def message(self, msg: MessageIn) -> None:
        """A message arrived: queue it."""
        self.inbound.message(msg)

    def presence(self, pres: Any) -> None:
        """A presence arrived: queue it."""
        self.inbound.presence(pres)

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("xmpp: background work failed ref=%s", new_ref())

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
