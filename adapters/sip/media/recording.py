"""Recording what a leg sends us, frame by frame, into an 8 kHz mono 16-bit WAV."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from adapters.sip.media.prompts import SAMPLE_RATE
from adapters.sip.media.rtp import FRAME_SAMPLES


class Recording:
    """An open WAV file that grows by one frame per tick until ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("wb")
        self._wav = wave.open(self._file, "wb")  # noqa: SIM115 (closed by ``close``)
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._frames = 0

    def write(self, frame: npt.NDArray[np.int16]) -> None:
        """Append one frame of samples."""
        self._wav.writeframes(frame.astype("<i2").tobytes())
        self._frames += 1

    def close(self) -> float:
        """Finish the file; the seconds recorded."""
        self._wav.close()
        self._file.close()
        return self._frames * FRAME_SAMPLES / SAMPLE_RATE
