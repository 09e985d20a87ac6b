"""The media server: every leg's RTP port, and the one 20 ms clock that mixes them all.

``MediaServer`` is the whole API the signalling side uses (documented in the package
docstring). Legs are named by the caller; every request about an unknown leg, or with bad
arguments, raises ``MediaError`` (or ``PromptError`` for an unplayable WAV) and changes
nothing. The 20 ms clock is a ``FrameClock``: a thread of its own, at real-time priority
where the OS allows (``realtime=False`` turns that off), on absolute deadlines; a tick that
runs late is caught up at once, and after more than ``MAX_BEHIND`` seconds behind it starts
again from now (counted in ``skipped``). The clock's thread and the event loop's share the
legs under one lock, held by the clock for a tick and by each request for its change;
what a tick produces for the loop (DTMF digits, a ``play_once`` played out) is handed to
the loop's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from adapters.sip.media.clock import FrameClock
from adapters.sip.media.g711 import Samples
from adapters.sip.media.legs import Leg, LegStats, MediaError, RtpPeer
from adapters.sip.media.mixer import Mixer
from adapters.sip.media.prompts import Prompt, hold_pattern, read_wav
from adapters.sip.media.recording import Recording
from adapters.sip.media.sockets import Inbox, PortPair

log = logging.getLogger(__name__)
FRAME_SECONDS: Final = 0.02
MAX_BEHIND: Final = 0.2
MIX_RESERVE: Final = 0.006
"""Seconds before the next deadline a tick stops reading to leave time to mix (about 3 ms
for 300 legs on a small machine, doubled)."""
HOLD: Final = "hold"
"""The ``play`` source that means hold music."""


class MediaServer:
    """RTP legs on ``host``, even ports from ``ports``; hold music from a WAV or a chime."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        ports: tuple[int, int] = (20000, 29999),
        hold_music: Path | None = None,
        *,
        realtime: bool = True,
    ) -> None:
        low, high = ports
        if not 0 < low <= high < 65536:
            raise MediaError(f"port range {low}-{high} is not within 1-65535")
        if low + low % 2 + 1 > high:
            raise MediaError(f"port range {low}-{high} holds no even RTP port with RTCP above it")
        self.host = host
        self.ports = (low + low % 2, high)
        self._hold: Samples = hold_pattern() if hold_music is None else read_wav(hold_music)
        self._legs: dict[str, Leg] = {}
        self._mixer = Mixer()
        self._inbox = Inbox()
        self._rebuild = False
        self._digit_callbacks: list[Callable[[str, str], None]] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.clock = FrameClock(
            self._tick, period=FRAME_SECONDS, max_behind=MAX_BEHIND, realtime=realtime
        )
        """The 20 ms clock: ``ticks``, ``skipped``, ``priority`` and ``lateness``."""
        self._cursor = self.ports[0]

    @property
    def ticks(self) -> int:
        """20 ms frames mixed since ``start``."""
        return self.clock.ticks

    @property
    def skipped(self) -> int:
        """Times the clock fell more than ``MAX_BEHIND`` behind and started again."""
        return self.clock.skipped

    async def start(self) -> None:
        """Start the 20 ms mixing clock (no port is bound until ``open_leg``)."""
        self._loop = asyncio.get_running_loop()
        self.clock.start()

    async def stop(self) -> None:
        """Stop the clock and close every leg."""
        if self.clock.running:
            await asyncio.to_thread(self.clock.stop)
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
            pair = PortPair.bind(self.host, port, asyncio.get_running_loop())
            if pair is not None:
                media.port, media.sockets = port, pair
                with self._lock:
                    self._inbox.add(pair, media.receive)
                    self._legs[leg] = media
                    self._rebuild = True
                return port
        raise MediaError(f"no free even UDP port on {self.host} in {low}-{high}")

    def connect(self, leg: str, peer: RtpPeer) -> None:
        """Send ``leg``'s RTP to ``peer`` (again after a re-INVITE: SSRC and clock carry on)."""
        media = self._leg(leg)
        with self._lock:
            media.connect(peer)

    def direction(self, leg: str, *, send: bool, receive: bool) -> None:
        """SDP direction as seen from here: do we send to the leg, do we take its audio."""
        media = self._leg(leg)
        with self._lock:
            media.sending, media.receiving = send, receive

    def hears(self, leg: str, sources: Iterable[str]) -> None:
        """Mix exactly ``sources`` (other open legs; ``leg`` itself is ignored) into ``leg``."""
        media = self._leg(leg)
        heard = frozenset(sources) - {leg}
        unknown = sorted(heard - self._legs.keys())
        if unknown:
            raise MediaError(f"leg {leg!r} cannot hear legs that are not open: {unknown}")
        if heard != media.hears:  # the call layer says it again on every change of a call
            with self._lock:
                media.hears = heard
                self._rebuild = True

    def play(self, leg: str, source: str | Path, *, loop: bool = True) -> None:
        """Send ``leg`` the prompt instead of its mix: ``"hold"`` music, or an 8 kHz WAV."""
        self._play(self._leg(leg), source, loop=loop)

    def _play(
        self,
        media: Leg,
        source: str | Path,
        *,
        loop: bool,
        played: asyncio.Future[None] | None = None,
    ) -> None:
        prompt = Prompt(self._samples(source), loop=loop)
        with self._lock:
            media.stop_playing()
            media.prompt, media.played = prompt, played

    def stop_playing(self, leg: str) -> None:
        """Back to the mix for ``leg``."""
        media = self._leg(leg)
        with self._lock:
            media.stop_playing()

    async def play_once(self, leg: str, source: str | Path) -> None:
        """Play ``source`` once to ``leg``; return when played out (or stopped, or closed)."""
        if not self.clock.running:
            raise MediaError("the media server is not started: nothing would play")
        media = self._leg(leg)
        played = asyncio.get_running_loop().create_future()
        self._play(media, source, loop=False, played=played)
        await played

    def record(self, leg: str, path: Path) -> None:
        """Record what ``leg`` sends us (its audio, silence when none) to an 8 kHz WAV."""
        media = self._leg(leg)
        if media.recording is not None:
            raise MediaError(f"leg {leg!r} is already recording to {media.recording.path}")
        try:
            recording = Recording(path)
        except OSError as exc:
            raise MediaError(f"cannot record leg {leg!r} to {path}: {exc}") from exc
        with self._lock:
            media.recording = recording

    def stop_recording(self, leg: str) -> float:
        """Finish ``leg``'s recording; the seconds recorded."""
        media = self._leg(leg)
        with self._lock:
            recording, media.recording = media.recording, None
        if recording is None:
            raise MediaError(f"leg {leg!r} is not recording")
        return recording.close()

    def on_dtmf(self, callback: Callable[[str, str], None]) -> None:
        """Call ``callback(leg, digit)`` once per RFC 4733 key press on any leg."""
        self._digit_callbacks.append(callback)

    async def close_leg(self, leg: str) -> None:
        """Close ``leg``'s port, finish its recording and prompt; others stop hearing it."""
        media = self._leg(leg)
        with self._lock:
            del self._legs[leg]
            media.stop_playing()
            recording, media.recording = media.recording, None
            if media.sockets is not None:
                self._inbox.remove(media.sockets)
                media.sockets.close()
            for other in self._legs.values():
                other.hears -= {leg}
            self._rebuild = True
        if recording is not None:
            recording.close()

    def stats(self, leg: str) -> LegStats:
        """``leg``'s packet counters and jitter."""
        media = self._leg(leg)
        with self._lock:
            return media.stats()

    def _leg(self, leg: str) -> Leg:
        try:
            return self._legs[leg]
        except KeyError:
            raise MediaError(f"no open leg {leg!r}") from None

    def _samples(self, source: str | Path) -> Samples:
        return self._hold if source == HOLD else read_wav(Path(source))

    def _digit(self, leg: str, digit: str) -> None:
        """A key press found by the clock's thread: handed to the callbacks in the loop's."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
                self._loop.call_soon_threadsafe(self._deliver, leg, digit)

    def _deliver(self, leg: str, digit: str) -> None:
        for callback in self._digit_callbacks:
            try:
                callback(leg, digit)
            except Exception:
                log.exception("DTMF callback failed for leg %s digit %s", leg, digit)

    def _tick(self, next_due: float) -> None:
        """Send the packets mixed last time, read the phones, mix the next (the clock's thread).

        Sending comes first, right on the deadline, so mixing never delays it; reading stops
        ``MIX_RESERVE`` before the next deadline (after one datagram from every phone), so a
        burst of packets does not make the next send late.
        """
        with self._lock:
            self._mixer.send()
            if self._rebuild:
                self._rebuild = False
                self._mixer.rebuild(list(self._legs.values()))
            self._inbox.drain(until=next_due - MIX_RESERVE)
            self._mixer.mix()
