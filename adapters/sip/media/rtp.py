"""RTP packets (RFC 3550): parse what a phone sends, build what a leg sends.

``parse`` accepts any well-formed RTP packet (CSRCs, a header extension and padding are
skipped) and raises ``RtpError`` on anything else. ``Outgoing`` is one leg's send state:
one SSRC for the life of the leg, a sequence number that grows by one per packet sent and a
timestamp that grows by 160 per 20 ms frame whether or not the frame was sent, so prompts,
the mix and pauses all share one continuous stream.
"""

from __future__ import annotations

import random
import struct
from typing import Final, NamedTuple

FRAME_SAMPLES: Final = 160
"""Samples in one 20 ms frame at 8 kHz."""
_HEADER = struct.Struct("!BBHII")
_VERSION = 2
_PLAIN = 0x80
"""The first byte of almost every packet: version 2, no padding, extension or CSRC."""
_MOD16 = 1 << 16
_MOD32 = 1 << 32


class RtpError(ValueError):
    """A datagram that is not an RTP packet this side can read."""


class RtpPacket(NamedTuple):
    """One RTP packet: the header fields a media server uses and the payload.

    A named tuple: one is built for every packet that arrives, so it has to be cheap.
    """

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        """The packet on the wire (no CSRCs, no extension, no padding)."""
        return header(self.payload_type, self.sequence, self.timestamp, self.ssrc, self.marker) + (
            self.payload
        )


def header(payload_type: int, sequence: int, timestamp: int, ssrc: int, marker: bool) -> bytes:
    """A 12-byte RTP header."""
    second = (0x80 if marker else 0) | (payload_type & 0x7F)
    return _HEADER.pack(_VERSION << 6, second, sequence % _MOD16, timestamp % _MOD32, ssrc)


def parse(data: bytes) -> RtpPacket:
    """The RTP packet in ``data``; ``RtpError`` says why when it is not one."""
    if len(data) < _HEADER.size:
        raise RtpError(f"{len(data)} bytes is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first == _PLAIN:
        return RtpPacket(
            second & 0x7F, sequence, timestamp, ssrc, data[_HEADER.size :], second > 0x7F
        )
    if first >> 6 != _VERSION:
        raise RtpError(f"RTP version {first >> 6}, expected 2")
    start = _HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:
        if len(data) < start + 4:
            raise RtpError("the header extension is cut short")
        start += 4 + 4 * int.from_bytes(data[start + 2 : start + 4], "big")
    end = len(data)
    if first & 0x20:
        if not data[-1]:
            raise RtpError("the padding count is 0")
        end -= data[-1]
    if start > end:
        raise RtpError("the header is longer than the packet")
    return RtpPacket(
        second & 0x7F, sequence, timestamp, ssrc, bytes(data[start:end]), bool(second & 0x80)
    )


def ahead(timestamp: int, reference: int) -> int:
    """How many samples ``timestamp`` is after ``reference`` (negative: before), mod 2**32."""
    diff = (timestamp - reference) % _MOD32
    return diff - _MOD32 if diff >= _MOD32 // 2 else diff


class Outgoing:
    """One leg's send state: a stable SSRC, sequence +1 per packet, timestamp +160 per frame."""

    def __init__(self, rng: random.Random | None = None) -> None:
        rng = rng or random.SystemRandom()
        self.ssrc: Final = rng.getrandbits(32)
        self.sequence = rng.getrandbits(16)
        self.timestamp = rng.getrandbits(32)
        self._talking = False

    def packet(self, payload_type: int, payload: bytes) -> bytes:
        """The next packet of this frame; the marker bit starts each talk spurt (RFC 3551)."""
        data = header(payload_type, self.sequence, self.timestamp, self.ssrc, not self._talking)
        self._talking = True
        self.sequence = (self.sequence + 1) % _MOD16
        return data + payload

    def next_frame(self, sent: bool) -> None:
        """Advance the clock one frame; a frame not sent ends the talk spurt."""
        self.timestamp = (self.timestamp + FRAME_SAMPLES) % _MOD32
        if not sent:
            self._talking = False
