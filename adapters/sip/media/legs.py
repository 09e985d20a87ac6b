"""One leg of a call as the media side sees it: its UDP ports, where it sends, what it hears.

A ``Leg`` owns the ``PortPair`` bound to its RTP port and the RTCP port above it (whose
reports are read and dropped). Its ``Latch`` says where it sends (the SDP address, or where
the phone's RTP comes from when that differs: symmetric RTP) and whose packets it takes;
all others, and datagrams that are not RTP, are counted as rejected and dropped. Audio
(PCMU/PCMA) goes to the jitter buffer; telephone-events go to the DTMF receiver, whose
digits are handed to ``on_digit``. The mixer reads frames out and hands each tick's encoded
frame to ``send``.
"""

from __future__ import annotations

import asyncio
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

    def send(self, payload: bytes) -> None:
        """Send this tick's frame when the leg sends, and advance its RTP clock either way."""
        peer, latch, sockets = self.peer, self.latch, self.sockets
        if self.sending and peer is not None and latch is not None and sockets is not None:
            packet = self.outgoing.packet(peer.payload_type, payload)
            if sockets.send(packet, latch.target):
                self.packets_out += 1
            self.outgoing.next_frame(sent=True)
        else:
            self.outgoing.next_frame(sent=False)

    def stop_playing(self) -> None:
        """Back to the mix; a ``play_once`` waiting on the prompt returns."""
        self.prompt = None
        if self.played is not None and not self.played.done():
            self.played.set_result(None)
        self.played = None

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
