"""A leg's two UDP sockets (RTP on an even port, RTCP on the odd one above), and the inbox.

Plain non-blocking sockets, not asyncio transports: binding a pair is a handful of system
calls (every call opens at least two legs, so this is on the call-setup path). RTP sockets
are not watched by the event loop but by an ``Inbox`` that the mixer's clock drains once
per 20 ms tick: one poll finds every socket with datagrams waiting, one read each, again
until none is left or each was read ``DRAIN`` times (a flooded port costs no more than a
busy one; the kernel drops the rest). That spares the loop a wake-up per packet and every
socket a failed read per tick. A drain given a time to stop by (``until``) reads one
datagram from every waiting socket whatever the time, and further rounds only while there
is time left: a burst (phones that fell behind and send two frames at once) waits in the
kernel for the next tick instead of making this one overrun its deadline. Each datagram
comes with the kernel's receive time where the platform gives it (Linux
``SO_TIMESTAMPNS``), else the time it was read; both are wall-clock seconds. What arrives
on the RTCP port is read by the loop and dropped. A frame the kernel cannot take (a full
buffer, an ICMP error from a phone gone away) is dropped too: another follows 20 ms later.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any, Final

Receive = Callable[[bytes, tuple[Any, ...], float], None]
"""``receive(datagram, source, arrival)``."""
DRAIN: Final = 16
"""Datagrams read per socket and tick at most (a phone sends one)."""
_DATAGRAM: Final = 2048
"""Bytes read per datagram: a 20 ms G.711 frame is 172."""
_SO_TIMESTAMPNS: Final = 35
"""Linux: the kernel stamps each datagram with its receive time (not named by ``socket``)."""
_TIMESPEC: Final = struct.Struct("qq")
_STAMPED: Final = sys.platform == "linux"
_ANCILLARY: Final = socket.CMSG_SPACE(_TIMESPEC.size) if _STAMPED else 0


def _bound(host: str, port: int) -> socket.socket | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    if _STAMPED:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    return sock


class PortPair:
    """The RTP and RTCP sockets of one leg (``loop`` reads and drops RTCP while open)."""

    def __init__(
        self, rtp: socket.socket, rtcp: socket.socket, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.rtp, self.rtcp, self._loop = rtp, rtcp, loop
        self.port = int(rtp.getsockname()[1])

    @classmethod
    def bind(cls, host: str, port: int, loop: asyncio.AbstractEventLoop) -> PortPair | None:
        """Both sockets bound on ``host`` (``port`` and ``port + 1``); else ``None``."""
        rtp = _bound(host, port)
        if rtp is None:
            return None
        rtcp = _bound(host, port + 1)
        if rtcp is None:
            rtp.close()
            return None
        loop.add_reader(rtcp.fileno(), _discard, rtcp)
        return cls(rtp, rtcp, loop)

    def read(self, receive: Receive) -> None:
        """Hand ``receive`` one datagram from the RTP port, if one is there."""
        try:
            data, ancillary, _, source = self.rtp.recvmsg(_DATAGRAM, _ANCILLARY)
        except OSError:
            return  # nothing after all, or an ICMP error for an earlier send: read past it
        receive(data, source, _arrival(ancillary))

    def send(self, data: bytes, to: tuple[str, int]) -> bool:
        """Send one RTP datagram; whether the kernel took it."""
        try:
            self.rtp.sendto(data, to)
        except OSError:
            return False
        return True

    def close(self) -> None:
        """Release both ports at once."""
        if self.rtcp.fileno() >= 0:
            self._loop.remove_reader(self.rtcp.fileno())
        self.rtcp.close()
        self.rtp.close()


class Inbox:
    """The RTP sockets of every open leg, drained together (see the module docstring)."""

    def __init__(self) -> None:
        self._selector: selectors.BaseSelector | None = None

    def add(self, pair: PortPair, receive: Receive) -> None:
        """Read ``pair``'s RTP socket on every ``drain``, handing datagrams to ``receive``."""
        if self._selector is None:
            self._selector = selectors.DefaultSelector()
        self._selector.register(pair.rtp, selectors.EVENT_READ, (pair, receive))

    def remove(self, pair: PortPair) -> None:
        """Stop reading ``pair`` (before it is closed)."""
        if self._selector is not None:
            self._selector.unregister(pair.rtp)

    def drain(self, until: float = math.inf) -> None:
        """Hand on what arrived since the last call, up to ``DRAIN`` per socket.

        The first round reads every waiting socket once; later ones stop as soon as
        ``time.monotonic()`` reaches ``until``.
        """
        if self._selector is None:
            return
        for round_ in range(DRAIN):
            ready = self._selector.select(0)
            if not ready:
                return
            for key, _ in ready:
                if round_ and time.monotonic() >= until:
                    return
                pair, receive = key.data
                pair.read(receive)

    def close(self) -> None:
        """Forget every socket (a later ``add`` starts afresh)."""
        if self._selector is not None:
            self._selector.close()
            self._selector = None


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return float(seconds + nanoseconds * 1e-9)
    return time.time()


def _discard(sock: socket.socket) -> None:
    """RTCP reports are taken in and ignored."""
    for _ in range(DRAIN):
        try:
            sock.recv(_DATAGRAM)
        except BlockingIOError:
            return
        except OSError:
            continue
