"""What a leg can be played instead of its mix: a WAV file, or hold music.

WAVs must be 8 kHz mono 16-bit PCM (anything else is a ``PromptError`` that says so).
``hold_pattern()`` is the hold music used when no WAV is configured: a soft two-note chime
(523 and 659 Hz, about -20 dBFS) every two seconds. ``Prompt`` hands out one 160-sample
frame per tick, looping or not; the last partial frame is padded with silence.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Final

import numpy as np

from adapters.sip.media.g711 import Samples
from adapters.sip.media.rtp import FRAME_SAMPLES

SAMPLE_RATE: Final = 8000
HOLD_NOTES: Final = (523.25, 659.25)
"""The two notes of the built-in hold chime, in Hz."""
_HOLD_LEVEL: Final = 3300.0
_NOTE_SECONDS: Final = 0.4
_HOLD_SECONDS: Final = 2.0


class PromptError(ValueError):
    """A prompt that cannot be played (missing file, wrong format)."""


def read_wav(path: Path) -> Samples:
    """The samples of an 8 kHz mono 16-bit WAV."""
    try:
        with wave.open(str(path), "rb") as wav:
            shape = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
            if shape != (SAMPLE_RATE, 1, 2):
                rate, channels, width = shape
                raise PromptError(
                    f"{path} is {rate} Hz, {channels} channel(s), {8 * width}-bit;"
                    " convert it to 8000 Hz mono 16-bit PCM"
                )
            data = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise PromptError(f"cannot read {path} as a WAV file: {exc}") from exc
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def hold_pattern() -> Samples:
    """Two seconds of the built-in hold chime: two soft notes, then a pause."""
    note = int(_NOTE_SECONDS * SAMPLE_RATE)
    t = np.arange(note) / SAMPLE_RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    chime = [
        (_HOLD_LEVEL * fade * np.sin(2 * np.pi * hz * t)).astype(np.int16) for hz in HOLD_NOTES
    ]
    rest = np.zeros(int(_HOLD_SECONDS * SAMPLE_RATE) - 2 * note, dtype=np.int16)
    return np.concatenate([*chime, rest])


class Prompt:
    """Samples played frame by frame; ``done`` once a non-looping prompt is played out."""

    def __init__(self, samples: Samples, *, loop: bool) -> None:
        if not len(samples):
            raise PromptError("the prompt has no audio")
        padding = -len(samples) % FRAME_SAMPLES
        self._frames = np.concatenate([samples, np.zeros(padding, np.int16)]).reshape(
            -1, FRAME_SAMPLES
        )
        self._loop = loop
        self._next = 0

    @property
    def done(self) -> bool:
        """Every frame of a non-looping prompt has been handed out (a loop is never done)."""
        return not self._loop and self._next >= len(self._frames)

    def frame(self) -> Samples:
        """The next 160 samples (silence once a non-looping prompt is done)."""
        if self.done:
            return np.zeros(FRAME_SAMPLES, np.int16)
        if self._next >= len(self._frames):
            self._next = 0
        frame: Samples = self._frames[self._next]
        self._next += 1
        return frame
