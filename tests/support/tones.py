"""Tones for audio tests: generate them, and tell which ones a stretch of audio contains.

``tone`` makes a sine at 8 kHz; ``level_db`` is a Goertzel filter's reading of one
frequency in dBFS (a full-scale sine reads 0 dB, silence about -inf); ``heard`` says which of
a set of frequencies stand clearly above the floor. ``read_wav``/``write_wav`` move samples
to and from 8 kHz mono 16-bit WAV files (as phones and the recorder use them).
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 8000
FULL_SCALE = 32767.0
PRESENT_DB = -26.0
"""A tone at or above this level (dBFS) is present. Phones send theirs at -12 and hold music
plays at about -20, while a tone that leaks into a stretch for 2 frames in 20 reads -32."""

Samples = npt.NDArray[np.int16]


def tone(hz: float, seconds: float, level_db: float = -12.0, *, phase: float = 0.0) -> Samples:
    """A sine of ``hz`` at ``level_db`` dBFS."""
    t = np.arange(round(seconds * RATE)) / RATE
    amplitude = FULL_SCALE * 10 ** (level_db / 20)
    return (amplitude * np.sin(2 * np.pi * hz * t + phase)).astype(np.int16)


def level_db(samples: npt.NDArray[np.integer], hz: float) -> float:
    """Goertzel: the level of ``hz`` in ``samples`` in dBFS (a full-scale sine is 0)."""
    x = samples.astype(np.float64) / FULL_SCALE
    n = len(x)
    if n == 0:
        return -math.inf
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for value in x.tolist():
        s1, s2 = value + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    amplitude = 2 * math.sqrt(max(power, 0.0)) / n
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def levels(samples: npt.NDArray[np.integer], freqs: Iterable[float]) -> dict[float, float]:
    """The level of each frequency, in dBFS."""
    return {hz: round(level_db(samples, hz), 1) for hz in freqs}


def heard(
    samples: npt.NDArray[np.integer], freqs: Iterable[float], threshold: float = PRESENT_DB
) -> set[float]:
    """The frequencies present at ``threshold`` dBFS or more."""
    return {hz for hz, db in levels(samples, freqs).items() if db >= threshold}


def heard_anywhere(
    samples: npt.NDArray[np.integer],
    freqs: Iterable[float],
    threshold: float = PRESENT_DB,
    chunk: float = 0.1,
) -> set[float]:
    """The frequencies present in at least one ``chunk``-second stretch (for melodies)."""
    size = round(chunk * RATE)
    found: set[float] = set()
    for start in range(0, max(len(samples) - size, 0) + 1, size):
        found |= heard(samples[start : start + size], freqs, threshold)
    return found


def read_wav(path: Path) -> Samples:
    """The samples of a mono 16-bit WAV (asserting that format and 8 kHz)."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2), (
            f"{path}: {wav.getframerate()} Hz, {wav.getnchannels()} ch, {wav.getsampwidth()} B"
        )
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.int16)


def write_wav(path: Path, samples: Samples) -> Path:
    """Write an 8 kHz mono 16-bit WAV; return its path."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path
