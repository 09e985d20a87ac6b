"""The Matrix adapter (ADP-3, ADP-6): an application service behind the port.

This module assembles the parts: ``homeserver`` speaks the client-server API through
mautrix, ``transactions`` serves what the homeserver pushes, ``inbound`` acts on it,
``outlet`` sends each commit's messages in order, ``places`` makes the rooms and ``rooms``
remembers them. ``convert`` and ``events`` say what a text means.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from adapters.matrix.config import MatrixConfig
from adapters.matrix.convert import PLATFORM
from adapters.matrix.crypto import Crypto
from adapters.matrix.homeserver import Homeserver
from adapters.matrix.inbound import Inbound
from adapters.matrix.outlet import Outlet
from adapters.matrix.places import Places
from adapters.matrix.rooms import Rooms
from adapters.matrix.transactions import Transactions
from bot.port import Batch, ChatState, Port, new_ref

log = logging.getLogger("backline.matrix")
BOT_NAME = "backline"
PINGS = (0.0, 1.5)  # seconds before each ping after start


class MatrixAdapter:
    """Members and customers on Matrix, behind the port ``matrix``."""

    name = PLATFORM
    reaches_everyone = False

    def __init__(self, port: Port, config: MatrixConfig, http: web.Application) -> None:
        self.port = port
        self.config = config
        self.hs = Homeserver(config, self)
        self.rooms = Rooms(port.store)
        self.places = Places(port, config, self.hs, self.rooms)
        self.crypto = Crypto(config, self.hs, port.store)
        self.places.crypto = self.crypto
        self.outlet = Outlet(port, self.hs, self.places, self.rooms, self.crypto)
        self.inbound = Inbound(
            port,
            config,
            hs=self.hs,
            places=self.places,
            rooms=self.rooms,
            outlet=self.outlet,
            crypto=self.crypto,
        )
        self.transactions = Transactions(config.hs_token, port.store, self.inbound)
        self.transactions.add_routes(http)
        self._tasks: set[asyncio.Task[Any]] = set()

    def health(self) -> str:
        """``up``, or ``reconnecting`` while the homeserver does not answer."""
        return "up" if self.hs.up else "reconnecting"

    async def start(self) -> None:
        """Read our rooms, open the homeserver connection and start sending."""
        self.rooms.open()
        await self.hs.open()
        self.outlet.start()
        bot = self.hs.bot
        self._spawn(self.hs.call(lambda: bot.set_displayname(BOT_NAME)))
        self._spawn(self.ping())
        if self.config.encryption:
            self._spawn(self.crypto.start())
        else:
            self.crypto.missing = "end-to-end encryption is off in [matrix]"
        await self.places.adopt_lobbies()

    async def ping(self) -> None:
        """Ask the homeserver to reach us now, and once more a little later.

        A homeserver that could not reach backline (while it restarted) backs off before
        sending again; a ping makes it retry at once, and the second one covers a
        transaction that failed just before we listened.
        """
        bot = self.hs.bot
        for wait in PINGS:
            await asyncio.sleep(wait)
            try:  # a failed ping says the homeserver could not reach us, not that it is down
                await self.hs.call(
                    lambda: bot.appservice_ping(self.config.appservice_id), patient=False
                )
            except Exception as exc:
                log.info("matrix: ping: %s", exc)

    async def stop(self) -> None:
        """Send what is queued, then close."""
        await self.outlet.stop()
        self.crypto.stop()
        for task in list(self._tasks):
            task.cancel()
        await self.hs.close()

    async def abort(self) -> None:
        """Stop as a crash would: nothing queued is sent."""
        await self.outlet.stop(drain=0)
        self.crypto.stop()
        await self.hs.close()

    async def send(self, batch: Batch) -> None:
        """Queue one commit's messages (sent in order; held while the homeserver is away)."""
        self.outlet.send(batch)

    async def send_chat_states(self, states: list[ChatState]) -> None:
        """Typing in members' interaction rooms and customers' chats."""
        self.outlet.typing(states)

    def homeserver_up(self, *, up: bool) -> None:
        """The homeserver stopped or started answering: the core tells members (MSG-2)."""
        log.warning("matrix: homeserver %s", "back" if up else "unreachable")
        self._spawn(self.port.adapter_status(up=up))

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("matrix: background work failed ref=%s", new_ref())

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
