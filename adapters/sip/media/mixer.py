"""One 20 ms tick of every leg at once: decode, mix, play prompts, encode, record; then send.

``mix`` takes one frame from every leg's jitter buffer (silence when there is none; the
clock has just drained what the phones sent since the last tick into them) and decodes all
of them in one table lookup; each leg's mix is the sum of the frames of the legs it hears,
computed for all legs that hear the same number of others at once (one gather and one sum
per group size: every 3-party conference in one step); a leg playing a prompt gets the
prompt's frame instead. The sums are clipped to 16 bits and encoded in each leg's law in one
lookup, and each leg's RTP packet is built there and then. ``send`` puts the packets of the
last ``mix`` on the wire in one tight pass (one ``sendto`` per leg, nothing else): the clock
calls it first thing on each 20 ms deadline and mixes the next tick right after, so what
phones receive keeps to the grid however long mixing takes (at the cost of one frame of
delay). The groups are rebuilt only when legs or what they hear change (``Mixer.rebuild``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from adapters.sip.media import g711
from adapters.sip.media.legs import Leg
from adapters.sip.media.prompts import Prompt
from adapters.sip.media.rtp import FRAME_SAMPLES, RtpPacket

_SILENCE_U = bytes([g711.SILENCE["pcmu"]]) * FRAME_SAMPLES
_SILENCE_A = bytes([g711.SILENCE["pcma"]]) * FRAME_SAMPLES
Indices = npt.NDArray[np.intp]


def _fitted(frame: RtpPacket | None) -> bytes:
    """A frame's payload cut or padded (with silence) to 160 codes; silence for none."""
    if frame is None:
        return _SILENCE_U
    silence = _SILENCE_A if frame.payload_type == g711.PCMA else _SILENCE_U
    payload = frame.payload
    if len(payload) == FRAME_SAMPLES:
        return payload
    return (payload + silence)[:FRAME_SAMPLES]


class Mixer:
    """The batch mixing of a fixed list of legs; ``rebuild`` when legs or ``hears`` change."""

    def __init__(self) -> None:
        self.legs: list[Leg] = []
        self._groups: list[tuple[Indices, Indices]] = []
        self._ready: list[tuple[Leg, bytes]] = []
        """Each sending leg's next RTP packet, for ``send``."""
        self._finished: list[tuple[Leg, Prompt]] = []
        """Legs whose prompt's last frame is in ``_ready``."""

    def rebuild(self, legs: Sequence[Leg]) -> None:
        """Take a new list of legs and recompute who hears whom."""
        self.legs = list(legs)
        position = {leg.name: n for n, leg in enumerate(self.legs)}
        by_size: dict[int, tuple[list[int], list[list[int]]]] = {}
        for n, leg in enumerate(self.legs):
            heard = sorted(position[name] for name in leg.hears if name in position)
            if heard:
                listeners, sources = by_size.setdefault(len(heard), ([], []))
                listeners.append(n)
                sources.append(heard)
        self._groups = [
            (np.array(listeners, np.intp), np.array(sources, np.intp))
            for listeners, sources in by_size.values()
        ]

    def mix(self) -> None:
        """Mix one frame for every leg, to be sent by the next ``send``."""
        if not self.legs:
            self._ready, self._finished = [], []
            return
        frames = [leg.jitter.pop() for leg in self.legs]
        heard = self._decode(frames)
        mix = np.zeros((len(self.legs), FRAME_SAMPLES), np.int32)
        for listeners, sources in self._groups:
            mix[listeners] = heard[sources].sum(axis=1)
        for n, leg in enumerate(self.legs):
            if leg.prompt is not None:
                mix[n] = leg.prompt.frame()
        codes = self._encode(np.clip(mix, -32768, 32767).astype(np.int16)).tobytes()
        ready: list[tuple[Leg, bytes]] = []
        for n, leg in enumerate(self.legs):
            packet = leg.packet(codes[n * FRAME_SAMPLES : (n + 1) * FRAME_SAMPLES])
            if packet is not None:
                ready.append((leg, packet))
        self._ready = ready
        self._finished = [
            (leg, leg.prompt) for leg in self.legs if leg.prompt is not None and leg.prompt.done
        ]
        for n, leg in enumerate(self.legs):
            if leg.recording is not None:
                leg.recording.write(heard[n].astype(np.int16))

    def send(self) -> None:
        """Send every leg its packet of the last ``mix``; then end the prompts played out."""
        ready, self._ready = self._ready, []
        for leg, packet in ready:
            leg.transmit(packet)
        finished, self._finished = self._finished, []
        for leg, prompt in finished:
            if leg.prompt is prompt:
                leg.stop_playing()

    def _decode(self, frames: list[RtpPacket | None]) -> npt.NDArray[np.int32]:
        codes = np.frombuffer(b"".join(map(_fitted, frames)), np.uint8).reshape(-1, FRAME_SAMPLES)
        heard = g711.decode(codes, "pcmu").astype(np.int32)
        alaw = [n for n, frame in enumerate(frames) if frame and frame.payload_type == g711.PCMA]
        if alaw:
            heard[alaw] = g711.decode(codes[alaw], "pcma")
        return heard

    def _encode(self, mix: npt.NDArray[np.int16]) -> g711.Codes:
        codes = g711.encode(mix, "pcmu")
        alaw = [
            n
            for n, leg in enumerate(self.legs)
            if leg.peer is not None and leg.peer.payload_type == g711.PCMA
        ]
        if alaw:
            codes[alaw] = g711.encode(mix[alaw], "pcma")
        return codes
