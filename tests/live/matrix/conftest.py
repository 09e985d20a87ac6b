"""Live Matrix fixtures: the session Synapse, backline in-process on its appservice port,
and matrix-nio users (closed after each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.synapse import (
    Backline,
    Person,
    Synapse,
    matrix_rules,
    shared_synapse,
    unique,
)

BOT = "@backline:localhost"


@pytest.fixture
def synapse(request: pytest.FixtureRequest) -> Synapse:
    """The test process's Synapse (started once)."""
    return shared_synapse(request)


@pytest.fixture
async def backline(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Backline]:
    """backline with the Matrix adapter on a fresh database, started."""
    running = Backline(synapse, tmp_path / "backline.db", matrix_rules(tmp_path))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


class People:
    """Makes matrix-nio users and closes them all after the test."""

    def __init__(self, synapse: Synapse) -> None:
        self.synapse = synapse
        self.made: list[Person] = []

    async def __call__(self, name: str) -> Person:
        person = await Person.new(self.synapse, name)
        self.made.append(person)
        return person

    async def close(self) -> None:
        for person in self.made:
            await person.close()


@pytest.fixture
async def people(synapse: Synapse) -> AsyncIterator[People]:
    """``await people("alice")``: a syncing user (members keep their names)."""
    made = People(synapse)
    try:
        yield made
    finally:
        await made.close()


@dataclass(frozen=True)
class Chat:
    """alice at her desk has accepted i1, the chat a Matrix customer opened at #support."""

    alice: Person
    desk: str
    customer: Person
    chat: str  # the customer's private chat
    room: str  # i1's room


async def accepted_chat(backline: Backline, people: People, first: str) -> Chat:
    """alice ready at her desk; a fresh customer joins #support and writes ``first`` in the
    private chat they are invited into; alice accepts i1 and is in its room."""
    alice = await people("alice")
    desk = await alice.dm(BOT, "Your backline desk")
    await alice.send(desk, "ready")
    await alice.wait_for("You are ready", desk)
    customer = await people(unique("ann"))
    await customer.join("#support:localhost")
    chat = await customer.wait_invite()
    await customer.send(chat, first)
    await alice.wait_for(first, desk)
    await alice.send(desk, "accept i1")
    room = await backline.joined_room(alice, "i1")
    await customer.wait_for("joined", chat)
    return Chat(alice, desk, customer, chat, room)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the tail of the Synapse log to a failing live Matrix test."""
    report = yield
    synapse = getattr(item, "funcargs", {}).get("synapse")
    if getattr(report, "failed", False) and isinstance(synapse, Synapse):
        report.sections.append(("synapse log (tail)", synapse.log_tail()))
    return report
