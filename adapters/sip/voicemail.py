"""Voicemail on the phone: recording a caller's message, listening with DTMF (MSG-4, MSG-5).

``Recorder``: when the engine sends a caller to a mailbox (a transfer to an unavailable
member, TRF-6, or a call to ``vm:BOX``), the caller hears the greeting, then what they say
is recorded as an 8 kHz WAV until they hang up; the WAV is kept with the message.

``Listener``: a member's phone dialling ``*97`` opens a ``voicemail`` session as that
member; digits are the menu: the PIN then ``#``, then ``1`` play, ``2`` keep, ``7``
delete, ``#`` next. Each digit is the member's command, so the engine keeps the state.
"""

from __future__ import annotations

import asyncio
import logging
import time
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adapters.sip.dialogs import Dialog
from adapters.sip.media_api import Media
from bot.port import Port

log = logging.getLogger("backline.sip")
MAX_MESSAGE_SECONDS = 300.0
MENU = {"1": "play", "2": "keep", "7": "delete", "#": "next"}

Command = Callable[[str, str], Awaitable[str | None]]


def write_tone(path: Path, hz: float = 600.0, seconds: float = 0.6) -> Path:
    """A short tone as an 8 kHz mono WAV (the greeting and the beep when none is set)."""
    samples = (6000 * np.sin(2 * np.pi * hz * np.arange(int(8000 * seconds)) / 8000)).astype(
        np.int16
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())
    return path


@dataclass
class Recording:
    """A caller's message being recorded."""

    dialog: Dialog
    message: int | None  # None: deposited when the caller hangs up (a call to vm:BOX)
    path: Path
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task[None] | None = None


class Recorder:
    """Records callers the engine sent to a mailbox."""

    def __init__(self, port: Port, media: Media, directory: Path, greeting: Path) -> None:
        self.port = port
        self.media = media
        self.directory = directory
        self.greeting = greeting
        self.active: dict[str, Recording] = {}  # by media leg

    def start(self, dialog: Dialog, message: int | None) -> None:
        """Greet the caller, then record them (until they hang up or the limit)."""
        if dialog.leg in self.active:
            return
        path = self.directory / f"{dialog.iid}-{dialog.leg}.wav"
        found = Recording(dialog, message, path)
        self.active[dialog.leg] = found
        found.task = asyncio.ensure_future(self._greet_and_record(found))

    async def _greet_and_record(self, found: Recording) -> None:
        leg = found.dialog.leg
        self.media.hears(leg, ())
        await self.media.play_once(leg, self.greeting)
        if leg not in self.active:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.media.record(leg, found.path)
        await asyncio.sleep(MAX_MESSAGE_SECONDS)

    def recording(self, dialog: Dialog) -> bool:
        """Whether this caller is leaving a message now."""
        return dialog.leg in self.active

    async def finish(self, dialog: Dialog) -> tuple[int | None, Path, float] | None:
        """The caller hung up: stop; the message, its WAV and its length (None: nothing)."""
        found = self.active.pop(dialog.leg, None)
        if found is None:
            return None
        if found.task is not None:
            found.task.cancel()
        if not found.path.exists() and found.task is not None and not found.task.done():
            return None
        try:
            seconds = self.media.stop_recording(dialog.leg)
        except Exception:  # the greeting was still playing: nothing was recorded
            return None
        return found.message, found.path, round(seconds, 2)


@dataclass
class Session:
    """A member listening to their mailbox from a phone."""

    dialog: Dialog
    handle: str
    iid: str
    locked: bool
    digits: str = ""
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # one key at a time, in order


class Listener:
    """The DTMF menu of voicemail sessions (MSG-5)."""

    def __init__(
        self, port: Port, media: Media, command: Command, spawn: Callable[..., object]
    ) -> None:
        self.port = port
        self.media = media
        self.command = command
        self.spawn = spawn
        self.sessions: dict[str, Session] = {}  # by media leg

    def open(self, dialog: Dialog, handle: str, iid: str, *, locked: bool) -> None:
        """A session the member started by dialling ``*97``."""
        self.sessions[dialog.leg] = Session(dialog, handle, iid, locked)

    def digit(self, leg: str, digit: str) -> bool:
        """A key press on a leg; False if no session is on it."""
        session = self.sessions.get(leg)
        if session is None:
            return False
        self.spawn(self._press(session, digit))
        return True

    async def _press(self, session: Session, digit: str) -> None:
        async with session.turn:
            await self._act(session, digit)

    async def _act(self, session: Session, digit: str) -> None:
        if session.locked:
            if digit != "#":
                session.digits += digit
                return
            pin, session.digits = session.digits, ""
            if await self.command(session.handle, f"pin {pin}") == "ok":
                session.locked = False
                await self.command(session.handle, "next")
            return
        action = MENU.get(digit)
        if action is None:
            return
        outcome = await self.command(session.handle, action)
        if action == "play" and outcome == "ok":
            found = self.port.voice().session_message(session.iid)
            if found is not None and found[1] and Path(found[1]).is_file():
                await self.media.play_once(session.dialog.leg, Path(found[1]))

    async def close(self, dialog: Dialog) -> None:
        """The member hung up: end the session."""
        session = self.sessions.pop(dialog.leg, None)
        if session is not None:
            await self.command(session.handle, f"end {session.iid}")
