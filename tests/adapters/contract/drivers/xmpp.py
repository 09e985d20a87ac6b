"""The XMPP contract driver: backline's component in-process against the session Prosody.

alice and bob are real slixmpp clients; each connects the first time the suite needs them,
so, as on the console, they start logged off. Customers are fresh slixmpp users writing to
the routing address of their target (``group:support`` → ``support@backline.localhost``).
chen is a console member: a console adapter on the same core prints what chen gets. The core
runs on a fake clock, as the console driver's does, so no offer times out mid-test.
``restart`` cuts the component's stream (nothing held is sent), drops the core as a crash
would and opens a new one on the same database with a fresh adapter; clients stay online.

What a member received is each message body, prefixed ``(iN)`` when it came from
interaction ``iN``'s contact JID (the console shows the same marker).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.xmpp import MIGRATIONS, XmppAdapter, XmppConfig
from adapters.xmpp.convert import routing_address
from bot.clock import FakeClock
from bot.core import Core
from bot.port import Port
from bot.state import snapshot
from tests.support.console import RULES
from tests.support.prosody import COMPONENT, DOMAIN, Client, Prosody

POLL = 0.01
_DELIVERY = re.compile(r"^\[(?P<who>[^\]]+)\] ?(?P<text>.*)$")
_CONTACT = re.compile(rf"^(?P<iid>i\d+)@{re.escape(COMPONENT)}$")
_serial = itertools.count(1)


def rendered(client: Client) -> list[str]:
    """Every message body ``client`` received, ``(iN) `` first when from an interaction."""
    lines = []
    for item in client.messages():
        if not item.body:
            continue
        contact = _CONTACT.match(item.frm.split("/")[0])
        lines.append(f"({contact['iid']}) {item.body}" if contact else item.body)
    return lines


async def waited(read: Callable[[], list[str]], who: str, expect: str, timeout: float) -> list[str]:
    """``read()`` once a line contains ``expect``; ``AssertionError`` with what came if not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        lines = read()
        if any(expect in line for line in lines):
            return lines
        if loop.time() >= deadline:
            raise AssertionError(f"{who} never received {expect!r}; got: {lines}")
        await asyncio.sleep(POLL)


class XmppDriver:
    """backline with its XMPP component and a console, driven by real XMPP users."""

    platform = "xmpp"
    customer_platform = "xmpp"

    def __init__(self, prosody: Prosody, database: Path) -> None:
        self.prosody = prosody
        self.database = database
        self.settings = XmppConfig(
            enabled=True, jid=COMPONENT, secret=prosody.secret, port=prosody.component_port
        )
        self.clock = FakeClock()
        self.out = io.StringIO()
        self.core: Core | None = None
        self.adapter: XmppAdapter | None = None
        self.console: ConsoleAdapter | None = None
        self.members: dict[str, Client] = {}
        self.customers: dict[str, tuple[Client, str]] = {}  # name -> (client, routing address)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """A core on the database, the console and the component attached, then connected."""
        self.core = Core.open(RULES, self.database, self.clock)
        self.core.store.migrate(MIGRATIONS)
        self.adapter = XmppAdapter(Port(self.core, "xmpp"), self.settings)
        self.console = ConsoleAdapter(Port(self.core, "console"), out=self.out, echo=False)
        self.core.delivery.attach(self.console)
        self.core.delivery.attach(self.adapter)
        await self.adapter.start()
        assert self.adapter.connected, "the component did not connect to Prosody"

    async def stop(self) -> None:
        """Close every client, stop the component and close the store."""
        clients = [*self.members.values(), *(c for c, _ in self.customers.values())]
        await asyncio.gather(*(c.close() for c in clients))
        if self.core is None or self.adapter is None:
            return
        await self.adapter.stop()
        for adapter in (self.adapter, self.console):
            if adapter is not None:
                self.core.delivery.detach(adapter)
        self.core.store.close()
        self.core = self.adapter = self.console = None

    async def restart(self) -> None:
        """Cut the stream and drop the core as a crash would; start on the same database."""
        assert self.core is not None and self.adapter is not None, "start the driver first"
        await self.adapter.abort()
        self.core.store.close()
        self.clock = FakeClock(self.clock.now())
        self.core = self.adapter = self.console = None
        await self.start()

    # -- members ---------------------------------------------------------------------

    async def member(self, name: str) -> Client:
        """Member ``name``'s client, connected (and so available) the first time."""
        if name not in self.members:
            jid = f"{name}@{DOMAIN}"
            self.members[name] = await Client.online(jid, self.prosody.c2s_port)
        return self.members[name]

    async def member_types(self, member: str, text: str, *, interaction: str | None = None) -> None:
        """To the bot JID, or with ``interaction`` to that interaction's contact ``iN@``."""
        client = await self.member(member)
        client.say(f"{interaction}@{COMPONENT}" if interaction else COMPONENT, text)

    async def member_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """Every message the member's client got, once one contains ``expect``."""
        client = await self.member(member)
        return await waited(lambda: rendered(client), f"@{member}", expect, timeout)

    async def member_presence(self, member: str, available: bool) -> None:
        """The client's own presence: available, or ``away`` (not ready by the rule table)."""
        client = await self.member(member)
        if available:
            client.xmpp.send_presence()
        else:
            client.xmpp.send_presence(pshow="away")

    # -- customers -------------------------------------------------------------------

    async def customer_writes(self, customer: str, text: str, *, target: str = "") -> None:
        """A fresh XMPP user the first time, writing to ``target``'s routing address."""
        if customer not in self.customers:
            assert target, f"{customer} writes for the first time: name a target"
            jid = self.prosody.register(f"{customer.lower()}{next(_serial)}")
            client = await Client.online(jid, self.prosody.c2s_port)
            self.customers[customer] = (client, routing_address(target, COMPONENT))
        client, address = self.customers[customer]
        client.say(address, text)

    async def customer_leaves(self, customer: str) -> None:
        """The customer says ``bye`` to the address they wrote to."""
        client, address = self.customers[customer]
        client.say(address, "bye")

    async def customer_received(
        self, customer: str, expect: str, timeout: float = 5.0
    ) -> list[str]:
        """Every message the customer's client got, once one contains ``expect``."""
        client, _ = self.customers[customer]
        return await waited(lambda: rendered(client), f"customer {customer}", expect, timeout)

    # -- the console -----------------------------------------------------------------

    async def console_types(self, member: str, text: str) -> None:
        """A console member types a command."""
        assert self.console is not None, "start the driver first"
        await self.console.type(member, text)

    async def console_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What the console showed ``@member``."""

        def lines() -> list[str]:
            found = (_DELIVERY.match(line) for line in self.out.getvalue().splitlines())
            return [m["text"] for m in found if m and m["who"] == f"@{member}"]

        return await waited(lines, f"console @{member}", expect, timeout)

    # -- reading ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        assert self.core is not None, "start the driver first"
        return snapshot(self.core.store)


async def open_driver(request: pytest.FixtureRequest, tmp_path: Path) -> XmppDriver:
    """A started XMPP driver on the session Prosody and a fresh database in ``tmp_path``."""
    driver = XmppDriver(request.getfixturevalue("prosody"), tmp_path / "backline.db")
    await driver.start()
    return driver
