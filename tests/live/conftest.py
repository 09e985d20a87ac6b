"""Live XMPP fixtures: backline's adapter on the session Prosody, and slixmpp users.

The ``prosody`` fixture itself lives in ``tests.support.prosody_fixture`` (shared with the
adapter contract drivers).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.xmpp import XmppAdapter, XmppConfig
from bot.clock import SystemClock
from bot.core import Core
from bot.port import Port
from bot.state import snapshot
from tests.support.console import RULES
from tests.support.prosody import COMPONENT, DOMAIN, Client, Prosody

_customers = itertools.count(1)


@dataclass
class Live:
    """backline with its XMPP adapter on the live Prosody, plus helpers for tests."""

    prosody: Prosody
    core: Core
    adapter: XmppAdapter
    clients: list[Client] = field(default_factory=list)

    @property
    def port(self) -> Port:
        """The adapter's port into the core."""
        return self.adapter.port

    async def user(self, name: str, domain: str = DOMAIN) -> Client:
        """A connected client for member ``name`` (or any registered user)."""
        client = await Client.online(f"{name}@{domain}", self.prosody.c2s_port)
        self.clients.append(client)
        return client

    async def customer(self, name: str = "", domain: str = DOMAIN) -> Client:
        """An outside user, fresh and uniquely named unless ``name`` is given."""
        name = name or f"cust{next(_customers)}"
        self.prosody.register(name, domain=domain)
        return await self.user(name, domain)

    async def until(
        self, check: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> float:
        """Wait (bounded) until ``check()``; returns the seconds it took."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while not check():
            if loop.time() - start > timeout:
                raise TimeoutError(f"{what} not reached in {timeout}s")
            await asyncio.sleep(0.005)
        return loop.time() - start

    def state(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        return snapshot(self.core.store)

    def presence(self, member: str) -> str:
        """The presence others see for ``member``, as stored."""
        return next(m["presence"] for m in self.state()["members"] if m["id"] == member)

    def available(self, group: str) -> int:
        """The stored ready count of ``group:NAME``."""
        name = group.removeprefix("group:")
        return next(g["available"] for g in self.state()["groups"] if g["id"] == name)

    async def ready(self, *members: str, timeout: float = 5.0) -> None:
        """Wait until the members' XMPP presence made them ready."""
        for member in members:
            await self.until(
                lambda m=member: self.presence(m) == "ready", timeout, f"@{member} ready"
            )


def backline_config(server: Prosody) -> XmppConfig:
    """The component settings for the live server."""
    return XmppConfig(
        enabled=True,
        jid=COMPONENT,
        secret=server.secret,
        host="127.0.0.1",
        port=server.component_port,
    )


async def start_backline(
    server: Prosody, database: Path, config: XmppConfig | None = None, **kwargs: float
) -> tuple[Core, XmppAdapter]:
    """A core on the shipped rules with the XMPP adapter attached and connected."""
    core = Core.open(RULES, database, SystemClock())
    adapter = XmppAdapter(Port(core, "xmpp"), config or backline_config(server), **kwargs)
    core.delivery.attach(adapter)  # as serve does: attached before it starts
    await adapter.start()
    assert adapter.connected, "the component did not connect to Prosody"
    return core, adapter


async def stop_backline(core: Core, adapter: XmppAdapter) -> None:
    """Stop the adapter, detach it and close the store."""
    await adapter.stop()
    core.delivery.detach(adapter)
    core.store.close()


@pytest.fixture
async def live(prosody: Prosody, tmp_path: Path) -> AsyncIterator[Live]:
    """backline connected as the component ``backline.localhost``."""
    core, adapter = await start_backline(prosody, tmp_path / "backline.db")
    env = Live(prosody, core, adapter)
    yield env
    await asyncio.gather(*(c.close() for c in env.clients))
    await stop_backline(core, adapter)
