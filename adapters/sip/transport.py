"""SIP over UDP and TCP (RFC 3261 §18): datagrams, stream framing, floods bounded per source.

Each transport hands the stack ``(data, Source)``; the ``Source`` says where to answer
(the datagram's sender, or the TCP connection it came on: responses are symmetric, as with
``rport``). A source over its budget is dropped (after one ``503`` with ``Retry-After``
from the stack), so one flooding peer cannot crowd out the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from adapters.sip.message import MAX_MESSAGE

log = logging.getLogger("backline.sip")

Receive = Callable[[bytes, "Source"], None]


@dataclass(frozen=True)
class Source:
    """Where a message came from, and how to answer it."""

    host: str
    port: int
    transport: str = "UDP"  # or TCP
    stream: asyncio.StreamWriter | None = field(default=None, compare=False, hash=False)

    @property
    def hostport(self) -> tuple[str, int]:
        """``(host, port)``."""
        return self.host, self.port


class Budget:
    """A token bucket per source host: ``rate`` messages a second, bursts of ``burst``."""

    def __init__(self, rate: float, burst: float, *, sources: int = 4096) -> None:
        self.rate, self.burst, self.sources = rate, burst, sources
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, host: str, now: float | None = None) -> bool:
        """Whether one more message from ``host`` fits its budget."""
        now = time.monotonic() if now is None else now
        buckets = self._buckets
        found = buckets.get(host)
        if found is None:
            found = (self.burst, now)
            while len(buckets) >= self.sources:  # the longest unheard source is forgotten
                buckets.popitem(last=False)
        elif host != next(reversed(buckets)):
            buckets.move_to_end(host)
        tokens, last = found
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        buckets[host] = (tokens - 1.0 if allowed else tokens, now)
        return allowed


class Udp(asyncio.DatagramProtocol):
    """The UDP socket: every datagram is one message."""

    def __init__(self, receive: Receive, *, sources: int = 4096) -> None:
        self.receive = receive
        self.transport: asyncio.DatagramTransport | None = None
        self._sources: dict[tuple[str | bytes, int], Source] = {}  # peers send again and again
        self._max_sources = sources

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the socket."""
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        """Hand the datagram on (keep-alive CRLFs are ignored)."""
        if data and (data[0] not in b"\r\n" or data.strip(b"\r\n")):
            source = self._sources.get(addr)
            if source is None:
                if len(self._sources) >= self._max_sources:
                    self._sources.clear()
                source = self._sources[addr] = Source(str(addr[0]), int(addr[1]))
            self.receive(data, source)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (a peer gone away) are expected; transactions time out instead."""
        log.debug("sip: udp error %s", exc)

    def send(self, data: bytes, to: tuple[str, int]) -> None:
        """Send one datagram."""
        if self.transport is not None:
            self.transport.sendto(data, to)


async def read_stream(
    reader: asyncio.StreamReader, receive: Callable[[bytes], None], idle: float
) -> None:
    """Split a TCP byte stream into messages by ``Content-Length`` (RFC 3261 §18.3)."""
    while True:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), idle)
        except asyncio.LimitOverrunError:
            return  # no end of headers within the bound: not SIP, close
        head = head.lstrip(b"\r\n")
        if not head.strip():
            continue  # keep-alive
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                text = value.strip()
                if not text.isdigit() or int(text) > MAX_MESSAGE:
                    return  # framing is lost: nothing after this can be trusted
                length = int(text)
        body = await asyncio.wait_for(reader.readexactly(length), idle) if length else b""
        receive(head + body)


class Tcp:
    """The TCP listener: each connection is read as a stream of messages."""

    def __init__(self, receive: Receive, *, idle: float = 300.0) -> None:
        self.receive = receive
        self.idle = idle
        self.server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port bound."""
        self.server = await asyncio.start_server(self._serve, host, port, limit=MAX_MESSAGE)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = Source(str(peer[0]), int(peer[1]), "TCP", writer)
        self._writers.add(writer)
        try:
            await read_stream(reader, lambda data: self.receive(data, source), self.idle)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        """Close the listener and every connection."""
        for writer in list(self._writers):
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
