"""The media server: every leg's RTP port, and the one 20 ms clock that mixes them all.

``MediaServer`` is the whole API the signalling side uses (documented in the package
docstring). Legs are named by the caller; every request about an unknown leg, or with bad
arguments, raises ``MediaError`` (or ``PromptError`` for an unplayable WAV) and changes
nothing. The clock keeps absolute time: a tick that runs late is caught up at once, and
after more than ``MAX_BEHIND`` seconds behind it starts again from now (counted in
``skipped``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from adapters.sip.media.g711 import Samples
from adapters.sip.media.legs import Leg, LegStats, MediaError, RtpPeer
from adapters.sip.media.mixer import Mixer
from adapters.sip.media.prompts import Prompt, hold_pattern, read_wav
from adapters.sip.media.recording import Recording
from adapters.sip.media.sockets import Inbox, PortPair

log = logging.getLogger(__name__)
FRAME_SECONDS: Final = 0.02
MAX_BEHIND: Final = 0.2
HOLD: Final = "hold"
"""The ``play`` source that means hold music."""


class MediaServer:
    """RTP legs on ``host``, even ports from ``ports``; hold music from a WAV or a chime."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        ports: tuple[int, int] = (20000, 29999),
        hold_music: Path | None = None,
    ) -> None:
        low, high = ports
        if not 0 < low <= high < 65536:
            raise MediaError(f"port range {low}-{high} is not within 1-65535")
        if low + low % 2 + 1 > high:
            raise MediaError(f"port range {low}-{high} holds no even RTP port with RTCP above it")
        self.host = host
        self.ports = (low + low % 2, high)
        self.ticks = 0
        """20 ms frames mixed since ``start``."""
        self.skipped = 0
        """Times the clock fell more than ``MAX_BEHIND`` behind and started again."""
        self._hold: Samples = hold_pattern() if hold_music is None else read_wav(hold_music)
        self._legs: dict[str, Leg] = {}
        self._mixer = Mixer()
        self._inbox = Inbox()
        self._rebuild = False
        self._digit_callbacks: list[Callable[[str, str], None]] = []
        self._clock: asyncio.Task[None] | None = None
        self._cursor = self.ports[0]

    async def start(self) -> None:
        """Start the 20 ms mixing clock (no port is bound until ``open_leg``)."""
        if self._clock is None:
            self._clock = asyncio.get_running_loop().create_task(self._run(), name="media-clock")

    async def stop(self) -> None:
        """Stop the clock and close every leg."""
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        for name in list(self._legs):
            await self.close_leg(name)
        self._inbox.close()

    async def open_leg(self, leg: str) -> int:
        """Bind an even UDP port for ``leg``'s RTP (and the odd one above for RTCP); return it."""
        if leg in self._legs:
            raise MediaError(f"leg {leg!r} is already open")
        media = Leg(leg, 0, self._digit)
        low, high = self.ports
        for _ in range((high - low + 1) // 2):
            port = self._cursor
            self._cursor = port + 2 if port + 3 <= high else low
            if await self._bind(media, port):
                self._legs[leg] = media
                self._changed()
                return port
        raise MediaError(f"no free even UDP port on {self.host} in {low}-{high}")

    async def _bind(self, media: Leg, port: int) -> bool:
        """Bind RTP on ``port`` and RTCP (read and dropped) on ``port + 1``; both or neither."""
        pair = PortPair.bind(self.host, port, asyncio.get_running_loop())
        if pair is None:
            return False
        self._inbox.add(pair, media.receive)
        media.port, media.sockets = port, pair
        return True

    def connect(self, leg: str, peer: RtpPeer) -> None:
        """Send ``leg``'s RTP to ``peer`` (again after a re-INVITE: SSRC and clock carry on)."""
        self._leg(leg).connect(peer)

    def direction(self, leg: str, *, send: bool, receive: bool) -> None:
        """SDP direction as seen from here: do we send to the leg, do we take its audio."""
        media = self._leg(leg)
        media.sending, media.receiving = send, receive

    def hears(self, leg: str, sources: Iterable[str]) -> None:
        """Mix exactly ``sources`` (other open legs; ``leg`` itself is ignored) into ``leg``."""
        media = self._leg(leg)
        heard = frozenset(sources) - {leg}
        unknown = sorted(heard - self._legs.keys())
        if unknown:
            raise MediaError(f"leg {leg!r} cannot hear legs that are not open: {unknown}")
        if heard != media.hears:  # the call layer says it again on every change of a call
            media.hears = heard
            self._changed()

    def play(self, leg: str, source: str | Path, *, loop: bool = True) -> None:
        """Send ``leg`` the prompt instead of its mix: ``"hold"`` music, or an 8 kHz WAV."""
        media = self._leg(leg)
        prompt = Prompt(self._samples(source), loop=loop)
        media.stop_playing()
        media.prompt = prompt

    def stop_playing(self, leg: str) -> None:
        """Back to the mix for ``leg``."""
        self._leg(leg).stop_playing()

    async def play_once(self, leg: str, source: str | Path) -> None:
        """Play ``source`` once to ``leg``; return when played out (or stopped, or closed)."""
        if self._clock is None:
            raise MediaError("the media server is not started: nothing would play")
        self.play(leg, source, loop=False)
        played = asyncio.get_running_loop().create_future()
        self._legs[leg].played = played
        await played

    def record(self, leg: str, path: Path) -> None:
        """Record what ``leg`` sends us (its audio, silence when none) to an 8 kHz WAV."""
        media = self._leg(leg)
        if media.recording is not None:
            raise MediaError(f"leg {leg!r} is already recording to {media.recording.path}")
        try:
            media.recording = Recording(path)
        except OSError as exc:
            raise MediaError(f"cannot record leg {leg!r} to {path}: {exc}") from exc

    def stop_recording(self, leg: str) -> float:
        """Finish ``leg``'s recording; the seconds recorded."""
        media = self._leg(leg)
        if media.recording is None:
            raise MediaError(f"leg {leg!r} is not recording")
        recording, media.recording = media.recording, None
        return recording.close()

    def on_dtmf(self, callback: Callable[[str, str], None]) -> None:
        """Call ``callback(leg, digit)`` once per RFC 4733 key press on any leg."""
        self._digit_callbacks.append(callback)

    async def close_leg(self, leg: str) -> None:
        """Close ``leg``'s port, finish its recording and prompt; others stop hearing it."""
        media = self._legs.pop(self._leg(leg).name)
        media.stop_playing()
        if media.recording is not None:
            media.recording.close()
            media.recording = None
        if media.sockets is not None:
            self._inbox.remove(media.sockets)
            media.sockets.close()
        for other in self._legs.values():
            other.hears -= {leg}
        self._changed()

    def stats(self, leg: str) -> LegStats:
        """``leg``'s packet counters and jitter."""
        return self._leg(leg).stats()

    def _leg(self, leg: str) -> Leg:
        try:
            return self._legs[leg]
        except KeyError:
            raise MediaError(f"no open leg {leg!r}") from None

    def _samples(self, source: str | Path) -> Samples:
        return self._hold if source == HOLD else read_wav(Path(source))

    def _changed(self) -> None:
        """Legs or who hears whom changed: the mixer takes them in before its next tick."""
        self._rebuild = True

    def _digit(self, leg: str, digit: str) -> None:
        for callback in self._digit_callbacks:
            try:
                callback(leg, digit)
            except Exception:
                log.exception("DTMF callback failed for leg %s digit %s", leg, digit)

    async def _run(self) -> None:
        """Send the frames mixed last time, read the phones, mix the next: every 20 ms.

        Deadline n is ``start + n * 20 ms`` (not a sleep after the work), so the clock does
        not drift however long a tick takes.
        """
        loop = asyncio.get_running_loop()
        start, frames = loop.time(), 0
        while True:
            try:
                self._mixer.send()
                if self._rebuild:
                    self._rebuild = False
                    self._mixer.rebuild(list(self._legs.values()))
                self._inbox.drain()
                self._mixer.mix()
            except Exception:
                log.exception("media tick failed; the clock carries on")
            self.ticks += 1
            frames += 1
            wait = start + frames * FRAME_SECONDS - loop.time()
            if wait < -MAX_BEHIND:
                self.skipped += 1
                start, frames, wait = loop.time(), 0, 0.0
            await asyncio.sleep(max(wait, 0.0))
