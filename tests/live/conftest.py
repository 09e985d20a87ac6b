"""Live XMPP fixtures: backline's adapter on the session Prosody, and slixmpp users.

The ``prosody`` fixture itself lives in ``tests.support.prosody_fixture`` (shared with the
adapter contract drivers).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.xmpp import MIGRATIONS, XmppAdapter, XmppConfig
from bot.clock import SystemClock
from bot.core import Core
from bot.port import Port
from bot.state import snapshot
from tests.live.backline_process import BacklineProcess
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

    def console(self) -> io.StringIO:
        """Attach a console (every member's other platform); what it printed so far."""
        out = io.StringIO()
        self.core.delivery.attach(ConsoleAdapter(Port(self.core, "console"), out, echo=False))
        return out

    async def accepted_chat(self, agent: Client, first: str = "hello") -> Client:
        """A fresh customer opens a chat to support@; ``agent`` accepts it in ``i1``'s contact."""
        support, contact = f"support@{COMPONENT}", f"i1@{COMPONENT}"
        customer = await self.customer()
        customer.say(support, first)
        await agent.wait_body(contact, "New chat from")
        agent.say(contact, "accept")
        await customer.wait_body(support, "joined.")
        return customer

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


def rules_with(folder: Path, **graces: str) -> Path:
    """A copy of the shipped rules with other offline graces (``routing="1s"``, ...)."""
    shutil.copytree(RULES, folder, dirs_exist_ok=True)
    policy = folder / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    for section, default in (("routing", "2m"), ("customers", "1m")):
        if section in graces:
            old = f"offline_grace: {default} "
            assert text.count(old) == 1, f"policy.yaml lost {section}.offline_grace"
            start = text.index(f"\n{section}:")
            at = text.index(old, start)
            text = text[:at] + f"offline_grace: {graces[section]} " + text[at + len(old) :]
    policy.write_text(text, encoding="utf-8")
    return folder


async def start_backline(
    server: Prosody,
    database: Path,
    config: XmppConfig | None = None,
    *,
    rules: Path = RULES,
    **kwargs: float,
) -> tuple[Core, XmppAdapter]:
    """A core on the rules with the XMPP adapter attached and connected, as serve does it."""
    core = Core.open(rules, database, SystemClock())
    core.store.migrate(MIGRATIONS)
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
def backline(prosody: Prosody, tmp_path: Path) -> Iterator[BacklineProcess]:
    """``backline run`` on the live Prosody; stopped (and its log shown) at the end."""
    process = BacklineProcess(tmp_path, prosody)
    yield process
    code = process.stop()
    assert code in (None, 0), f"backline run exited with {code}:\n{process.tail()}"


@pytest.fixture
async def live(prosody: Prosody, tmp_path: Path) -> AsyncIterator[Live]:
    """backline connected as the component ``backline.localhost``."""
    core, adapter = await start_backline(prosody, tmp_path / "backline.db")
    env = Live(prosody, core, adapter)
    yield env
    await asyncio.gather(*(c.close() for c in env.clients))
    await stop_backline(core, adapter)
