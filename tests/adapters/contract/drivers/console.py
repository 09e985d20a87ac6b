"""The console's contract driver: the console adapter in-process, on a fake clock.

Members and customers are all on the console; ``chen`` is too, so the IM check crosses
from the console to itself. The fake clock never moves, so no offer times out mid-test.
A restart closes the store as a crash would leave it (nothing flushed, nothing stopped)
and opens a new core on the same database; the transcript carries on across it.
"""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.console.convert import Sim
from bot.clock import FakeClock
from bot.core import Core
from bot.port import Port
from bot.state import snapshot

RULES = Path(__file__).resolve().parents[4] / "rules"
_DELIVERY = re.compile(r"^\[(?P<who>[^\]]+)\] ?(?P<text>.*)$")
POLL = 0.01


class ConsoleDriver:
    """Backline with only the console adapter; every party types through it."""

    platform = "console"
    customer_platform = "console"

    def __init__(self, database: Path, rules: Path = RULES) -> None:
        self.database = database
        self.rules = rules
        self.out = io.StringIO()
        self.clock = FakeClock()
        self.core: Core | None = None
        self.adapter: ConsoleAdapter | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Open a core on the database and attach a console printing to ``out``."""
        self.core = Core.open(self.rules, self.database, self.clock)
        self.adapter = ConsoleAdapter(Port(self.core, "console"), out=self.out, echo=False)
        self.core.delivery.attach(self.adapter)
        await self.adapter.start()

    async def stop(self) -> None:
        """Stop the console and close the store."""
        if self.core is None or self.adapter is None:
            return
        await self.adapter.stop()
        self.core.delivery.detach(self.adapter)
        self.core.store.close()
        self.core = self.adapter = None

    async def restart(self) -> None:
        """Drop the running core as a crash would, then start on the same database."""
        assert self.core is not None, "start the driver first"
        self.core.store.close()  # no adapter stopped, no waiting message delivered
        self.clock = FakeClock(self.clock.now())
        self.core = self.adapter = None
        await self.start()

    # -- members ---------------------------------------------------------------------

    async def member_types(self, member: str, text: str, *, interaction: str | None = None) -> None:
        """A command; with ``interaction``, text said in it (``say iN TEXT``)."""
        await self._console.type(member, f"say {interaction} {text}" if interaction else text)

    async def member_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What the console showed ``@member``, once a line contains ``expect``."""
        return await self._wait(f"@{member}", expect, timeout)

    async def member_presence(self, member: str, available: bool) -> None:
        """The console has no platform presence: the member types it."""
        await self._console.type(member, "ready" if available else "notready")

    async def console_types(self, member: str, text: str) -> None:
        """A console member types a command."""
        await self._console.type(member, text)

    async def console_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What the console showed ``@member``."""
        return await self._wait(f"@{member}", expect, timeout)

    # -- customers -------------------------------------------------------------------

    async def customer_writes(self, customer: str, text: str, *, target: str = "") -> None:
        """``sim chat NAME TARGET TEXT`` the first time, ``sim say NAME TEXT`` after."""
        sim = Sim("chat", customer, target, text) if target else Sim("say", customer, text=text)
        await self._console.simulate(sim)

    async def customer_leaves(self, customer: str) -> None:
        """``sim hangup NAME``."""
        await self._console.simulate(Sim("hangup", customer))

    async def customer_received(
        self, customer: str, expect: str, timeout: float = 5.0
    ) -> list[str]:
        """What the console showed ``customer:NAME``."""
        return await self._wait(f"customer:{customer}", expect, timeout)

    # -- reading ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        assert self.core is not None, "start the driver first"
        return snapshot(self.core.store)

    def lines(self, who: str) -> list[str]:
        """Every transcript line delivered to ``who`` (``@bob``, ``customer:Ann``)."""
        found = (_DELIVERY.match(line) for line in self.out.getvalue().splitlines())
        return [m["text"] for m in found if m and m["who"] == who]

    async def _wait(self, who: str, expect: str, timeout: float) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            lines = self.lines(who)
            if any(expect in line for line in lines):
                return lines
            if loop.time() >= deadline:
                raise AssertionError(f"{who} never received {expect!r}; got: {lines}")
            await asyncio.sleep(POLL)

    @property
    def _console(self) -> ConsoleAdapter:
        assert self.adapter is not None, "start the driver first"
        return self.adapter


async def open_driver(request: pytest.FixtureRequest, tmp_path: Path) -> ConsoleDriver:
    """A started console driver on a fresh database in ``tmp_path``."""
    driver = ConsoleDriver(tmp_path / "backline.db")
    await driver.start()
    return driver
