"""A media server and three phones on real loopback UDP sockets, started per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.sip.media import MediaServer, RtpPeer
from tests.adapters.sip.media.phone import HOST, Phone

CUSTOMER, AGENT, SUPERVISOR = 440.0, 880.0, 1320.0
TONES = (CUSTOMER, AGENT, SUPERVISOR)
PORTS = (21000, 22998)


@dataclass
class Call:
    """The server and one connected, sending phone per leg name."""

    server: MediaServer
    phones: dict[str, Phone]

    async def listen(self, seconds: float = 0.4, settle: float = 0.2) -> dict[str, int]:
        """Let changes reach the phones, then return each phone's mark and wait ``seconds``.

        Both spans are counted in frames the server mixed, not in wall time, so a slow,
        busy machine stretches them instead of cutting them short.
        """
        await frames_pass(self.server, settle)
        marks = {name: phone.mark() for name, phone in self.phones.items()}
        await frames_pass(self.server, seconds)
        return marks


async def frames_pass(server: MediaServer, seconds: float) -> None:
    """Wait until the server has mixed ``seconds`` worth of 20 ms frames from now."""
    target = server.ticks + round(seconds / 0.02)
    while server.ticks < target:
        await asyncio.sleep(0.005)


async def connected(server: MediaServer, legs: dict[str, float | None]) -> Call:
    phones: dict[str, Phone] = {}
    for name, hz in legs.items():
        phone = Phone(hz)
        await phone.open()
        port = await server.open_leg(name)
        server.connect(name, RtpPeer(HOST, phone.port, 0, 101))
        phone.send_to(port)
        phones[name] = phone
    return Call(server, phones)


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    media = MediaServer(ports=PORTS)
    await media.start()
    yield media
    await media.stop()


@pytest.fixture
async def call(server: MediaServer) -> AsyncIterator[Call]:
    """customer sends 440 Hz, agent 880 Hz, supervisor 1320 Hz; nobody hears anybody yet."""
    result = await connected(
        server, {"customer": CUSTOMER, "agent": AGENT, "supervisor": SUPERVISOR}
    )
    yield result
    for phone in result.phones.values():
        await phone.close()
