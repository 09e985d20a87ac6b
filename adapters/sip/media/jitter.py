"""A jitter buffer: frames in by RTP timestamp as they arrive, out one per 20 ms tick in order.

A frame is played ``delay`` ticks after the first packet of a stream would have been, so
packets up to that late, or reordered within it, come out in order. A frame still missing
at its turn while later ones wait is lost (the mix gets silence for it, the outgoing stream
never pauses); a packet arriving after its turn is late and dropped. The stream starts over
on a new SSRC, a timestamp further than ``span`` frames from the playout point (a restarted
sender, a long pause), a talk spurt (marker bit) or a run of late packets that starts
behind it. When a sender's clock runs fast and frames pile up past ``delay + 8``, the
oldest is dropped so the delay stays bounded. Frames are 20 ms: a timestamp between two
frame slots goes to the slot it falls in, so nothing is ever kept that will not be played.
"""

from __future__ import annotations

from typing import Final

from adapters.sip.media.rtp import FRAME_SAMPLES, RtpPacket, ahead

_SAMPLE_RATE: Final = 8000
_JITTER_GAIN: Final = 16
_PILE_UP: Final = 8


class JitterBuffer:
    """Frames of one incoming stream, reordered by timestamp; see the module docstring."""

    def __init__(self, delay: int = 2, span: int = 50) -> None:
        if delay < 0 or span <= delay:
            raise ValueError(f"need 0 <= delay < span, got delay={delay} span={span}")
        self.delay = delay
        self.span = span
        self.late = 0
        self.lost = 0
        self.jitter = 0.0
        """RFC 3550 interarrival jitter, in samples."""
        self._frames: dict[int, RtpPacket] = {}
        self._ssrc: int | None = None
        self._next = 0
        self._first = 0
        self._transit: float | None = None
        self._late_run = 0

    @property
    def depth(self) -> int:
        """Frames waiting."""
        return len(self._frames)

    def put(self, packet: RtpPacket, arrival: float) -> None:
        """Keep ``packet`` (arrived at ``arrival`` seconds) for its turn, or count it late."""
        self._track_jitter(packet.timestamp, arrival)
        offset = ahead(packet.timestamp, self._next)
        if self._starts_over(packet, offset):
            self._restart(packet)
            offset = ahead(packet.timestamp, self._next)
        if offset < 0:
            self.late += 1
            self._late_run += 1
            return
        self._late_run = 0
        slot = (self._next + offset - offset % FRAME_SAMPLES) % (1 << 32)
        self._frames.setdefault(slot, packet)

    def pop(self) -> RtpPacket | None:
        """The packet whose turn it is (``None`` before the stream starts or when it is lost)."""
        if self._ssrc is None:
            return None
        if len(self._frames) > self.delay + _PILE_UP:
            self._frames.pop(self._next, None)
            self._advance()
        frame = self._frames.pop(self._next, None)
        if frame is None and self._frames and ahead(self._next, self._first) >= 0:
            self.lost += 1
        self._advance()
        return frame

    def _advance(self) -> None:
        self._next = (self._next + FRAME_SAMPLES) % (1 << 32)

    def _starts_over(self, packet: RtpPacket, offset: int) -> bool:
        if packet.ssrc != self._ssrc or abs(offset) >= self.span * FRAME_SAMPLES:
            return True
        return offset < 0 and (packet.marker or self._late_run > self.delay)

    def _restart(self, packet: RtpPacket) -> None:
        self._late_run = 0
        self._frames.clear()
        self._ssrc = packet.ssrc
        self._first = packet.timestamp
        self._next = (packet.timestamp - self.delay * FRAME_SAMPLES) % (1 << 32)

    def _track_jitter(self, timestamp: int, arrival: float) -> None:
        transit = arrival * _SAMPLE_RATE - timestamp
        if self._transit is not None:
            swing = abs(transit - self._transit)
            if swing < self.span * FRAME_SAMPLES:
                self.jitter += (swing - self.jitter) / _JITTER_GAIN
        self._transit = transit
