"""Live XMPP fixtures: one real Prosody per test run, backline's adapter and slixmpp users.

Skipped only when ``prosody`` is missing *and* ``CI`` is unset; in CI a missing server fails.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.xmpp.adapter import XmppAdapter
from adapters.xmpp.config import XmppConfig
from bot.clock import SystemClock
from bot.core import Core
from bot.directory.presence import PresenceState
from tests.support.console import RULES
from tests.support.prosody import COMPONENT, Client, Prosody, env_in_ci, prosody_missing

MEMBERS = ("alice", "bob", "chen", "sam")
_customers = itertools.count(1)


@pytest.fixture(scope="session")
def prosody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prosody]:
    """A Prosody on free loopback ports, with the demo members registered (ADP-4)."""
    if prosody_missing():
        if env_in_ci():
            pytest.fail("prosody is not installed, and CI must run the live XMPP tests")
        pytest.skip("prosody is not installed (apt-get install prosody)")
    server = Prosody(tmp_path_factory.mktemp("prosody"))
    server.write_config()
    for name in MEMBERS:
        server.register(name)
    server.start()
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Attach the tail of the Prosody log to a failing live test's report."""
    report: pytest.TestReport = yield
    server = item.funcargs.get("prosody") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, Prosody) and server.log.exists():
        tail = server.log.read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
        report.sections.append(("prosody log (tail)", "\n".join(tail)))
    return report


@dataclass
class Live:
    """backline with its XMPP adapter on the live Prosody, plus helpers for tests."""

    prosody: Prosody
    core: Core
    adapter: XmppAdapter
    clients: list[Client] = field(default_factory=list)

    async def user(self, name: str) -> Client:
        """A connected client for member ``name`` (or any registered user)."""
        client = await Client.online(f"{name}@localhost", self.prosody.c2s_port)
        self.clients.append(client)
        return client

    async def customer(self) -> Client:
        """A fresh outside user with a unique name (no cleanup needed)."""
        name = f"cust{next(_customers)}"
        self.prosody.register(name)
        return await self.user(name)

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

    async def ready(self, *members: str, timeout: float = 5.0) -> None:
        """Wait until the members' XMPP presence made them ready."""
        for member in members:
            await self.until(
                lambda m=member: self.core.directory.presence(m).state == PresenceState.READY,
                timeout,
                f"@{member} ready",
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
    server: Prosody, database: Path, **kwargs: float
) -> tuple[Core, XmppAdapter]:
    """A core on the shipped rules with the XMPP adapter connected."""
    core = Core.open(RULES, database, SystemClock())
    adapter = XmppAdapter(core, backline_config(server), **kwargs)
    await adapter.start()
    assert adapter.connected, "the component did not connect to Prosody"
    return core, adapter


@pytest.fixture
async def live(prosody: Prosody, tmp_path: Path) -> AsyncIterator[Live]:
    """backline connected as the component ``backline.localhost``."""
    core, adapter = await start_backline(prosody, tmp_path / "backline.db")
    env = Live(prosody, core, adapter)
    yield env
    await asyncio.gather(*(c.close() for c in env.clients))
    await adapter.stop()
    core.store.close()
