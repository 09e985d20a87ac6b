"""One leg of a call as the media side sees it: its UDP ports, where it sends, what it hears.

A ``Leg`` owns the ``PortPair`` bound to its RTP port and the RTCP port above it (whose
reports are read and dropped). Its ``Latch`` says where it sends (the SDP address, or where
the phone's RTP comes from when that differs: symmetric RTP) and whose packets it takes;
all others, and datagrams that are not RTP, are counted as rejected and dropped. Audio
(PCMU/PCMA) goes to the jitter buffer; telephone-events go to the DTMF receiver, whose
digits are handed to ``on_digit``. The mixer reads frames out, turns each tick's encoded
frame into the leg's next RTP ``packet`` and, at the next deadline, ``transmit``s it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.sip.media import g711
from adapters.sip.media.dtmf import DtmfReceiver
from adapters.sip.media.jitter import JitterBuffer
from adapters.sip.media.latching import Latch
from adapters.sip.media.prompts import Prompt
from adapters.sip.media.recording import Recording
from adapters.sip.media.rtp import Outgoing, RtpError, parse
from adapters.sip.media.sockets import PortPair


class MediaError(ValueError):
    """A media request that cannot be carried out; nothing was changed."""


@dataclass(frozen=True)
class RtpPeer:
    """Where a leg sends its RTP, as negotiated in SDP."""

    host: str
    port: int
    payload_type: int
    """0 PCMU or 8 PCMA."""
    dtmf_payload_type: int | None = None
    """RFC 4733 telephone-event payload type (96-127), e.g. 101; ``None`` if not offered."""

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            raise MediaError(f"RTP host {self.host!r} must be an IP address") from None
        if not 0 < self.port < 65536:
            raise MediaError(f"RTP port {self.port} is outside 1-65535")
        try:
            g711.law_of(self.payload_type)
        except ValueError as exc:
            raise MediaError(str(exc)) from None
        if self.dtmf_payload_type is not None and not 96 <= self.dtmf_payload_type <= 127:
            raise MediaError(
                f"telephone-event payload type {self.dtmf_payload_type} is not dynamic (96-127)"
            )


@dataclass(frozen=True)
class LegStats:
    """Counters of one leg since it was opened."""

    packets_in: int
    """RTP packets accepted from the peer (audio and telephone-events)."""
    packets_out: int
    """RTP packets sent to the peer."""
    late: int
    """Audio packets that arrived after their turn and were dropped."""
    lost: int
    """Frames missing at their turn (played as silence)."""
    jitter: float
    """RFC 3550 interarrival jitter of what the peer sends, in milliseconds."""
    rejected: int
    """Datagrams dropped: not RTP, not from the leg's (latched) address, or before ``connect``."""


class Leg:
    """One leg's socket and media state (see the module docstring)."""

    def __init__(self, name: str, port: int, on_digit: Callable[[str, str], None]) -> None:
        self.name = name
        self.port = port
        self.sockets: PortPair | None = None
        self.peer: RtpPeer | None = None
        self.latch: Latch | None = None
        self.sending = True
        self.receiving = True
        self.hears: frozenset[str] = frozenset()
        self.jitter = JitterBuffer()
        self.outgoing = Outgoing()
        self.prompt: Prompt | None = None
        self.played: asyncio.Future[None] | None = None
        self.recording: Recording | None = None
        self.packets_in = 0
        self.packets_out = 0
        self.rejected = 0
        self._dtmf = DtmfReceiver()
        self._on_digit = on_digit

    def connect(self, peer: RtpPeer) -> None:
        """Send to ``peer``; a re-INVITE to the same address keeps what was latched."""
        if self.latch is None or self.latch.sdp != (peer.host, peer.port):
            self.latch = Latch((peer.host, peer.port))
        self.peer = peer

    def receive(self, data: bytes, source: tuple[str | Any, ...], arrival: float) -> None:
        """Handle one datagram from ``source`` that arrived at ``arrival`` (seconds)."""
        peer, latch = self.peer, self.latch
        if peer is None or latch is None:
            self.rejected += 1
            return
        address = (str(source[0]), int(source[1]))
        try:
            packet = parse(data)
        except RtpError:
            latch.garbage(address)
            self.rejected += 1
            return
        if not latch.admit(address, packet):
            self.rejected += 1
            return
        self.packets_in += 1
        if packet.payload_type == peer.dtmf_payload_type:
            digit = self._dtmf.digit(packet)
            if digit is not None:
                self._on_digit(self.name, digit)
        elif packet.payload_type in (g711.PCMU, g711.PCMA) and self.receiving:
            self.jitter.put(packet, arrival)

    def packet(self, payload: bytes) -> bytes | None:
        """The RTP packet of this tick's ``payload`` (``None`` when the leg does not send now).

        The leg's RTP clock advances either way; ``transmit`` puts the packet on the wire.
        """
        peer = self.peer
        if self.sending and peer is not None and self.sockets is not None:
            packet = self.outgoing.packet(peer.payload_type, payload)
            self.outgoing.next_frame(sent=True)
            return packet
        self.outgoing.next_frame(sent=False)
        return None

    def transmit(self, packet: bytes) -> None:
        """Send ``packet`` to where the leg sends (counted when the kernel took it)."""
        latch, sockets = self.latch, self.sockets
        if latch is not None and sockets is not None and sockets.send(packet, latch.target):
            self.packets_out += 1

    def stop_playing(self) -> None:
        """Back to the mix; a ``play_once`` waiting on the prompt returns.

        Safe from any thread: the waiting future is resolved in its own event loop.
        """
        self.prompt = None
        played, self.played = self.played, None
        if played is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                played.get_loop().call_soon_threadsafe(_resolve, played)

    def stats(self) -> LegStats:
        """The counters of this leg."""
        return LegStats(
            packets_in=self.packets_in,
            packets_out=self.packets_out,
            late=self.jitter.late,
            lost=self.jitter.lost,
            jitter=self.jitter.jitter / 8.0,
            rejected=self.rejected,
        )


def _resolve(played: asyncio.Future[None]) -> None:
    if not played.done():
        played.set_result(None)
