"""A test phone: a plain asyncio UDP socket that sends a tone as 20 ms RTP and keeps what it gets.

It is the far end of one media leg: ``start`` sends ``hz`` (or silence) every 20 ms on an
absolute schedule with its own SSRC/sequence/timestamp, ``received`` keeps every RTP packet
that arrives with its arrival time, and ``audio`` decodes what arrived after a mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from adapters.sip.media import g711
from adapters.sip.media.rtp import FRAME_SAMPLES, RtpPacket, parse
from tests.support import tones

HOST = "127.0.0.1"


@dataclass
class Arrival:
    packet: RtpPacket
    at: float


@dataclass
class Phone(asyncio.DatagramProtocol):
    """One phone; ``port`` is its own RTP port once ``open`` returns."""

    hz: float | None
    payload_type: int = g711.PCMU
    host: str = HOST
    received: list[Arrival] = field(default_factory=list)
    port: int = 0
    ssrc: int = 0x1234
    sequence: int = 100
    timestamp: int = 5000
    shuffle: Callable[[Iterator[RtpPacket]], Iterator[RtpPacket]] | None = None

    async def open(self) -> int:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.host, 0)
        )
        self.port = self.transport.get_extra_info("sockname")[1]
        self._sender: asyncio.Task[None] | None = None
        return self.port

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(Arrival(parse(data), time.monotonic()))

    def send_to(self, port: int) -> None:
        """Start sending the tone to the server's leg port."""
        self.target = (HOST, port)
        self._sender = asyncio.get_running_loop().create_task(self._send())

    def packets(self) -> Iterator[RtpPacket]:
        """The endless RTP stream of the tone."""
        law = g711.law_of(self.payload_type)
        for n in itertools.count():
            start = n * FRAME_SAMPLES / tones.RATE
            if self.hz is None:
                samples = np.zeros(FRAME_SAMPLES, np.int16)
            else:
                phase = 2 * np.pi * self.hz * start
                samples = tones.tone(self.hz, FRAME_SAMPLES / tones.RATE, phase=phase)
            payload = g711.encode(samples, law).tobytes()
            yield RtpPacket(
                self.payload_type,
                (self.sequence + n) % 65536,
                (self.timestamp + n * FRAME_SAMPLES) % (1 << 32),
                self.ssrc,
                payload,
                n == 0,
            )

    def send_raw(self, data: bytes, port: int | None = None) -> None:
        self.transport.sendto(data, (HOST, port) if port else self.target)

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        stream = self.packets()
        if self.shuffle is not None:
            stream = self.shuffle(stream)
        for packet in stream:
            self.transport.sendto(packet.to_bytes(), self.target)
            due += 0.02
            await asyncio.sleep(max(0.0, due - loop.time()))

    def mark(self) -> int:
        return len(self.received)

    def audio(self, since: int = 0) -> np.ndarray:
        """What arrived after ``since``, decoded in arrival order."""
        parts = [
            g711.decode(
                np.frombuffer(a.packet.payload, np.uint8), g711.law_of(a.packet.payload_type)
            )
            for a in self.received[since:]
        ]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        self.transport.close()
