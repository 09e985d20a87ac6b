"""G.711 µ-law (PCMU) and A-law (PCMA) as numpy lookup tables, so whole batches convert at once.

``decode(codes, law)`` turns uint8 codes into int16 samples; ``encode(samples, law)`` turns
int16 samples into codes. Both accept arrays of any shape (a leg's 160-byte frame, or every
leg's frame of one tick stacked in rows). The tables follow ITU-T G.711 (the classic Sun
reference implementation): 256 entries to decode, 65,536 (one per 16-bit sample) to encode.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

Law = Literal["pcmu", "pcma"]
PCMU: Final = 0
"""RTP payload type of µ-law (RFC 3551)."""
PCMA: Final = 8
"""RTP payload type of A-law (RFC 3551)."""
SILENCE: Final[dict[Law, int]] = {"pcmu": 0xFF, "pcma": 0xD5}
"""The code of a zero sample in each law (what comfort silence is made of)."""

Codes = npt.NDArray[np.uint8]
Samples = npt.NDArray[np.int16]

_ULAW_BIAS = 0x21
_ULAW_LEVEL_BIAS = 0x84
_ULAW_CLIP = 8159
_ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def law_of(payload_type: int) -> Law:
    """The law of an RTP payload type (0 PCMU, 8 PCMA); anything else is a ``ValueError``."""
    if payload_type == PCMU:
        return "pcmu"
    if payload_type == PCMA:
        return "pcma"
    raise ValueError(f"payload type {payload_type} is not G.711 (use 0 for PCMU or 8 for PCMA)")


def _every_sample() -> npt.NDArray[np.int32]:
    """Every int16 value, at the position its uint16 bit pattern indexes."""
    return np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


def _ulaw_encode_table() -> Codes:
    pcm = _every_sample() >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    pcm = np.minimum(np.abs(pcm), _ULAW_CLIP) + _ULAW_BIAS
    segment = sum((pcm > end).astype(np.int32) for end in _ULAW_SEGMENT_ENDS)
    value = (np.minimum(segment, 7) << 4) | ((pcm >> (np.minimum(segment, 7) + 1)) & 0x0F)
    value = np.where(segment >= 8, 0x7F, value)
    return ((value ^ mask) & 0xFF).astype(np.uint8)


def _ulaw_decode_table() -> Samples:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_LEVEL_BIAS) << exponent) - _ULAW_LEVEL_BIAS
    return np.where(code & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_encode_table() -> Codes:
    pcm = _every_sample() >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    pcm = np.where(pcm >= 0, pcm, -pcm - 1)
    segment = sum((pcm > end).astype(np.int32) for end in _ALAW_SEGMENT_ENDS)
    shift = np.where(segment < 2, 1, segment)
    value = (np.minimum(segment, 7) << 4) | ((pcm >> shift) & 0x0F)
    value = np.where(segment >= 8, 0x7F, value)
    return ((value ^ mask) & 0xFF).astype(np.uint8)


def _alaw_decode_table() -> Samples:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    level = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    level = np.where(segment == 0, level + 8, level + 0x108)
    level = np.where(segment > 1, level << np.maximum(segment - 1, 0), level)
    return np.where(code & 0x80, level, -level).astype(np.int16)


_ENCODE: Final[dict[Law, Codes]] = {"pcmu": _ulaw_encode_table(), "pcma": _alaw_encode_table()}
_DECODE: Final[dict[Law, Samples]] = {"pcmu": _ulaw_decode_table(), "pcma": _alaw_decode_table()}


def encode(samples: npt.NDArray[np.int16], law: Law) -> Codes:
    """G.711 codes of int16 samples (same shape)."""
    return _ENCODE[law][samples.view(np.uint16)]


def decode(codes: npt.NDArray[np.uint8], law: Law) -> Samples:
    """int16 samples of G.711 codes (same shape)."""
    return _DECODE[law][codes]
