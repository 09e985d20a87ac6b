"""Hostile SIP datagrams and an OPTIONS probe, for the fuzz test and ``bench/sip_fuzz.py``.

``datagrams()`` mutates valid requests (INVITE, REGISTER, OPTIONS, BYE, CANCEL, SUBSCRIBE,
REFER) byte by byte, truncates them, repeats headers and sends pure noise. ``Background``
runs backline's phone system in its own thread and loop, as it would under a hostile peer;
``options_latency`` times OPTIONS round trips on its real socket.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.sip.harness import PhoneSystem, phone_system

TEMPLATE = (
    "{method} sip:{user}@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{branch};rport\r\n"
    'From: "Eve" <sip:eve@127.0.0.1>;tag=ev1\r\n'
    "To: <sip:{user}@127.0.0.1>{to_tag}\r\n"
    "Call-ID: {branch}@eve\r\n"
    "CSeq: 7 {method}\r\n"
    "Contact: <sip:eve@127.0.0.1:5999>\r\n"
    "Max-Forwards: 70\r\n"
    "Event: message-summary\r\n"
    "Refer-To: <sip:1002@127.0.0.1?Replaces=x%3Bto-tag%3Dy%3Bfrom-tag%3Dz>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: {length}\r\n\r\n{body}"
)
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n"
)
METHODS = ("INVITE", "REGISTER", "OPTIONS", "BYE", "CANCEL", "SUBSCRIBE", "REFER", "ACK", "X")


def template(method: str, user: str, branch: int, in_dialog: bool) -> bytes:
    """A valid request to mutate."""
    body = SDP if method == "INVITE" else ""
    return TEMPLATE.format(
        method=method,
        user=user,
        branch=branch,
        to_tag=";tag=t1" if in_dialog else "",
        length=len(body),
        body=body,
    ).encode()


@st.composite
def datagrams(draw: st.DrawFn) -> bytes:
    """A hostile datagram: a mutated request, or noise."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=400))
    data = bytearray(
        template(
            draw(st.sampled_from(METHODS)),
            draw(st.sampled_from(("sales", "1001", "*97", "2000", "%00", "a" * 300))),
            draw(st.integers(0, 10**6)),
            draw(st.booleans()),
        )
    )
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            data[at] = draw(st.integers(0, 255))
        elif kind == 1:
            del data[at:]
        elif kind == 2:
            line_end = data.find(b"\r\n", at)
            if line_end > 0:
                start = data.rfind(b"\r\n", 0, at) + 2
                data[line_end:line_end] = data[start - 2 : line_end] * draw(st.integers(1, 50))
        else:
            data[at:at] = draw(st.sampled_from((b"\r\n", b"\x00", b":", b";tag=", b"\r\n\r\n")))
        if not data:
            data = bytearray(b"\r\n")
    return bytes(data[:65000])


class Background:
    """The phone system in its own thread and event loop."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ready = threading.Event()
        self.done: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.system: PhoneSystem | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.done = asyncio.Event()
        # every source may send as fast as it likes here: the parser, not the budget, is tested
        async with phone_system(self.directory, trunks="127.0.0.2", rate=10**6) as system:
            self.system = system
            self.ready.set()
            await self.done.wait()

    def __enter__(self) -> PhoneSystem:
        self.thread.start()
        assert self.ready.wait(30)
        assert self.system is not None
        return self.system

    def __exit__(self, *exc: object) -> None:
        assert self.loop is not None and self.done is not None
        self.loop.call_soon_threadsafe(self.done.set)
        self.thread.join(30)


def options_latency(port: int, probes: int) -> list[float]:
    """Seconds per OPTIONS round trip, one probe at a time; each probe is a new transaction
    (its branch and Call-ID name this prober's port), so a second round is no retransmission."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    mine = sock.getsockname()[1]
    took: list[float] = []
    try:
        _probe(sock, mine, port, probes, took)
    finally:
        sock.close()
    return took


def _probe(sock: socket.socket, mine: int, port: int, probes: int, took: list[float]) -> None:
    for i in range(probes):
        data = (
            f"OPTIONS sip:backline@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{mine};branch=z9hG4bKp{mine}x{i}\r\n"
            f"From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:backline@127.0.0.1>\r\n"
            f"Call-ID: p{mine}x{i}@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        start = time.perf_counter()
        sock.sendto(data, ("127.0.0.1", port))
        answer = sock.recv(65535)
        took.append(time.perf_counter() - start)
        if not answer.startswith(b"SIP/2.0 200 "):
            raise AssertionError(f"OPTIONS answered {answer[:60]!r}")


def flood(port: int, batches: int, size: int = 100) -> int:
    """Send ``batches`` hypothesis examples of ``size`` hostile datagrams; how many were sent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sent = 0

    @given(st.lists(datagrams(), min_size=size, max_size=size))
    @settings(
        max_examples=batches,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def send(batch: list[bytes]) -> None:
        nonlocal sent
        for data in batch:
            sock.sendto(data, ("127.0.0.1", port))
            sent += 1
        time.sleep(0.002)  # let the socket drain: every datagram reaches the parser

    try:
        send()
    finally:
        sock.close()
    return sent


def parsed(
    system: PhoneSystem, sent: int, before: dict[str, int], timeout: float = 20
) -> dict[str, int]:
    """What the parser counted of the ``sent`` datagrams of a flood (``before``: its counts
    just before), once it has seen nearly all of them or ``timeout`` on.

    A loaded box may lose a few datagrams in the kernel's buffers: the last 1 % is not
    waited for.
    """
    deadline = time.monotonic() + timeout
    counts = system.adapter.stack.counts
    while counts["received"] - before["received"] < sent * 0.99 and time.monotonic() < deadline:
        time.sleep(0.05)
    return {key: counts[key] - before.get(key, 0) for key in counts}
