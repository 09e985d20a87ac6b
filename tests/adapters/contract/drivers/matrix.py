"""The Matrix contract driver: backline's appservice in-process against the session Synapse.

alice and bob are real matrix-nio users; each opens a DM with the bot (their desk) the
first time the suite needs them, so, as on the console, they start logged off and set
their presence with `ready` / `notready` there. Customers are fresh users who join
``#support:localhost`` and write in the private chat they are invited into; they leave
that chat to hang up. chen is a console member. The core runs on a fake clock, as the
other drivers' do, so no offer times out mid-test. ``restart`` stops the adapter as a
crash would (nothing queued is sent), drops the core and starts again on the same
database; the users stay online.

What a member received is every text anyone else posted where they are, prefixed ``(iN)``
when it was posted in interaction ``iN``'s room.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from tests.adapters.contract.drivers.xmpp import waited
from tests.support.synapse import Backline, Person, Synapse, matrix_rules, shared_synapse, unique

BOT = "@backline:localhost"
POLL = 0.01
WAIT = 10.0
_ROOM = re.compile(r"^(?P<iid>i\d+) ·")


def rendered(person: Person) -> list[str]:
    """Every text others posted where ``person`` is, ``(iN) `` first in interaction rooms."""
    lines = []
    for item in person.seen:
        if item.sender == person.user_id:
            continue
        room = _ROOM.match(person.room_name(item.room_id))
        lines.append(f"({room['iid']}) {item.body}" if room else item.body)
    return lines


class MatrixDriver:
    """backline with its Matrix appservice and a console, driven by real Matrix users."""

    platform = "matrix"
    customer_platform = "matrix"

    def __init__(self, synapse: Synapse, database: Path, rules: Path) -> None:
        self.synapse = synapse
        self.database = database
        self.rules = rules
        self.clock = FakeClock()
        self.backline = Backline(synapse, database, rules, self.clock)
        self.members: dict[str, tuple[Person, str]] = {}  # name -> (user, desk room)
        self.customers: dict[str, tuple[Person, str]] = {}  # name -> (user, chat room)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """backline on the database, its appservice served where Synapse pushes."""
        await self.backline.start()

    async def stop(self) -> None:
        """Close every user, stop backline."""
        people = [p for p, _ in (*self.members.values(), *self.customers.values())]
        await asyncio.gather(*(p.close() for p in people))
        await self.backline.stop()

    async def restart(self) -> None:
        """Stop as a crash would; start again on the same database."""
        await self.backline.stop(abort=True)
        self.clock = FakeClock(self.clock.now())
        self.backline = Backline(self.synapse, self.database, self.rules, self.clock)
        await self.backline.start()

    # -- members ---------------------------------------------------------------------

    async def member(self, name: str) -> tuple[Person, str]:
        """Member ``name`` and their desk, opened the first time."""
        if name not in self.members:
            person = await Person.new(self.synapse, name)
            desk = await person.dm(BOT, "Your backline desk")
            self.members[name] = (person, desk)
        return self.members[name]

    async def room_of(self, person: Person, iid: str) -> str:
        """The room of interaction ``iid`` as stored, once ``person`` has joined it."""
        return await self.backline.joined_room(person, iid)

    async def member_types(self, member: str, text: str, *, interaction: str | None = None) -> None:
        """At the desk, or with ``interaction`` in that interaction's room."""
        person, desk = await self.member(member)
        room = await self.room_of(person, interaction) if interaction else desk
        await person.send(room, text)

    async def member_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """Every text the member saw from others, once one contains ``expect``."""
        person, _ = await self.member(member)
        return await waited(lambda: rendered(person), f"@{member}", expect, timeout)

    async def member_presence(self, member: str, available: bool) -> None:
        """`ready` / `notready` at the desk (presence from Synapse is off in the tests)."""
        person, desk = await self.member(member)
        mark = len(person.seen)
        await person.send(desk, "ready" if available else "notready")
        answer = "You are ready" if available else "You are not ready"
        await waited(lambda: [r.body for r in person.seen[mark:]], f"@{member}", answer, WAIT)

    # -- customers -------------------------------------------------------------------

    async def customer_writes(self, customer: str, text: str, *, target: str = "") -> None:
        """A fresh user the first time, joining ``#support`` and writing in their chat."""
        if customer not in self.customers:
            assert target == "group:support", f"only #support is a lobby here, not {target}"
            person = await Person.new(self.synapse, unique(customer.lower()))
            await person.join("#support:localhost")
            chat = await person.wait_invite()
            self.customers[customer] = (person, chat)
        person, chat = self.customers[customer]
        await person.send(chat, text)

    async def customer_leaves(self, customer: str) -> None:
        """The customer leaves their chat."""
        person, chat = self.customers[customer]
        await person.client.room_leave(chat)

    async def customer_received(
        self, customer: str, expect: str, timeout: float = 5.0
    ) -> list[str]:
        """Every text the customer saw from others, once one contains ``expect``."""
        person, _ = self.customers[customer]
        return await waited(lambda: rendered(person), f"customer {customer}", expect, timeout)

    # -- the console -----------------------------------------------------------------

    async def console_types(self, member: str, text: str) -> None:
        """A console member types a command."""
        assert self.backline.console is not None, "start the driver first"
        await self.backline.console.type(member, text)

    async def console_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What the console showed ``@member``."""
        read = lambda: self.backline.console_lines(member)  # noqa: E731
        return await waited(read, f"console @{member}", expect, timeout)

    # -- reading ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        return self.backline.state()


async def open_driver(request: pytest.FixtureRequest, tmp_path: Path) -> MatrixDriver:
    """A started Matrix driver on the session Synapse and a fresh database in ``tmp_path``."""
    driver = MatrixDriver(shared_synapse(request), tmp_path / "backline.db", matrix_rules(tmp_path))
    await driver.start()
    return driver
