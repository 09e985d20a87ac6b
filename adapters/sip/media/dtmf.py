"""RFC 4733 telephone-events: digits out of event packets, and event packets for a digit.

A phone sends one event as several packets with the same RTP timestamp: the first (marker
bit set), updates while the key is held, and the end packet, usually three times.
``DtmfReceiver`` reports each event once, at its first packet, whatever order or how many
times its packets arrive. ``event_packets`` builds such a sequence (used to drive tests).
"""

from __future__ import annotations

from collections import deque
from typing import Final

from adapters.sip.media.rtp import FRAME_SAMPLES, RtpPacket

DIGITS: Final = "0123456789*#ABCD"
"""Event codes 0-15 (RFC 4733 §3.2) in order."""
_END: Final = 0x80
_REMEMBERED: Final = 16


class DtmfReceiver:
    """Digits of one incoming stream's telephone-events, each event reported once."""

    def __init__(self) -> None:
        self._seen: deque[tuple[int, int]] = deque(maxlen=_REMEMBERED)

    def digit(self, packet: RtpPacket) -> str | None:
        """The digit this packet starts, or ``None`` (a repeat, an end packet seen, not a digit)."""
        if len(packet.payload) < 4 or packet.payload[0] >= len(DIGITS):
            return None
        event = (packet.ssrc, packet.timestamp)
        if event in self._seen:
            return None
        self._seen.append(event)
        return DIGITS[packet.payload[0]]


def event_packets(
    digit: str,
    *,
    payload_type: int,
    ssrc: int,
    sequence: int,
    timestamp: int,
    frames: int = 5,
    volume: int = 10,
) -> list[RtpPacket]:
    """The packets of one key press lasting ``frames`` times 20 ms, the end packet sent 3 times."""
    if len(digit) != 1 or digit not in DIGITS:
        raise ValueError(f"{digit!r} is not a DTMF digit (one of {DIGITS})")
    code = DIGITS.index(digit)
    packets = []
    for n in range(frames + 2):
        end = n >= frames - 1
        duration = min(n + 1, frames) * FRAME_SAMPLES
        payload = bytes([code, (_END if end else 0) | volume]) + duration.to_bytes(2, "big")
        packets.append(
            RtpPacket(payload_type, (sequence + n) % 65536, timestamp, ssrc, payload, n == 0)
        )
    return packets
