"""What the call layer asks of the media side (``adapters.sip.media.MediaServer``).

A structural type, so call-layer tests may give a recording stand-in for pure signalling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol


class Media(Protocol):
    """RTP legs, mixing, prompts, recording and DTMF."""

    async def start(self) -> None:
        """Start the mixing clock."""

    async def stop(self) -> None:
        """Close every leg."""

    async def open_leg(self, leg: str) -> int:
        """Bind an RTP port for ``leg``; returns it."""

    def connect(self, leg: str, peer: Any) -> None:
        """Where ``leg`` sends (an ``RtpPeer``)."""

    def direction(self, leg: str, *, send: bool, receive: bool) -> None:
        """SDP direction of ``leg``."""

    def hears(self, leg: str, sources: Iterable[str]) -> None:
        """The legs mixed into what ``leg`` is sent."""

    def play(self, leg: str, source: str | Path, *, loop: bool = True) -> None:
        """Send ``leg`` a prompt (``"hold"``: hold music) instead of its mix."""

    def stop_playing(self, leg: str) -> None:
        """Back to the mix."""

    async def play_once(self, leg: str, source: str | Path) -> None:
        """Play a prompt to its end."""

    def record(self, leg: str, path: Path) -> None:
        """Record what ``leg`` sends us."""

    def stop_recording(self, leg: str) -> float:
        """Stop recording; seconds recorded."""

    def on_dtmf(self, callback: Callable[[str, str], None]) -> None:
        """``callback(leg, digit)`` for each RFC 4733 digit."""

    async def close_leg(self, leg: str) -> None:
        """Close ``leg``."""
