"""ADP-5: G.711 tables, RTP packets and the jitter buffer, on their own."""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sip.media import g711
from adapters.sip.media.dtmf import DtmfReceiver, event_packets
from adapters.sip.media.jitter import JitterBuffer
from adapters.sip.media.rtp import Outgoing, RtpError, RtpPacket, parse
from tests.support import tones

CODES = np.arange(256, dtype=np.uint8)


def test_g711_reference_values_adp_5() -> None:
    """ITU-T G.711 end points and the codes of silence."""
    assert g711.decode(np.array([0x00, 0x80, 0xFF, 0x7F], np.uint8), "pcmu").tolist() == [
        -32124,
        32124,
        0,
        0,
    ]
    assert g711.decode(np.array([0xD5, 0x55, 0xAA, 0x2A], np.uint8), "pcma").tolist() == [
        8,
        -8,
        32256,
        -32256,
    ]
    assert g711.encode(np.zeros(3, np.int16), "pcmu").tolist() == [g711.SILENCE["pcmu"]] * 3
    assert g711.encode(np.zeros(3, np.int16), "pcma").tolist() == [g711.SILENCE["pcma"]] * 3


@pytest.mark.parametrize("law", ["pcmu", "pcma"])
def test_g711_every_code_survives_a_round_trip_and_levels_are_ordered_adp_5(law: g711.Law) -> None:
    levels = g711.decode(CODES, law)
    assert (g711.decode(g711.encode(levels, law), law) == levels).all()
    every = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    decoded = g711.decode(g711.encode(every, law), law).astype(np.int32)
    assert (np.diff(decoded) >= 0).all()  # monotonic
    assert np.abs(decoded - every)[np.abs(every) < 30000].max() <= 1024  # within a step


@pytest.mark.parametrize("law", ["pcmu", "pcma"])
def test_a_tone_through_g711_keeps_its_frequency_and_level_adp_5(law: g711.Law) -> None:
    back = g711.decode(g711.encode(tones.tone(880, 0.5), law), law)
    assert tones.levels(back, (880, 440)) == {
        880: pytest.approx(-12.0, abs=0.3),
        440: back_low(back),
    }


def back_low(samples: np.ndarray) -> float:
    level = tones.level_db(samples, 440)
    assert level < -45
    return round(level, 1)


def test_g711_refuses_other_payload_types_adp_5() -> None:
    with pytest.raises(ValueError, match=r"payload type 18 is not G\.711"):
        g711.law_of(18)


def test_rtp_parses_what_it_builds_and_skips_csrc_extension_padding_adp_5() -> None:
    packet = RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"abc", True)
    assert parse(packet.to_bytes()) == packet
    wire = bytearray(packet.to_bytes()[:12])
    wire[0] |= 0x10 | 0x20 | 0x01  # extension, padding, one CSRC
    wire += b"CSRC" + b"\xbe\xde\x00\x01" + b"EXT!" + b"abc" + b"\0\0\x03"
    assert parse(bytes(wire)) == packet


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x00", "shorter than an RTP header"),
        (b"\x40" + b"\0" * 15, "version 1"),
        (b"\x8f" + b"\0" * 15, "longer than the packet"),
        (b"\x90" + b"\0" * 11 + b"\0\0", "extension is cut short"),
        (b"\xa0" + b"\0" * 12, "padding count is 0"),
    ],
)
def test_rtp_refuses_what_is_not_rtp_with_a_reason_adp_5(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        parse(data)


@given(st.binary(max_size=80))
def test_rtp_parse_never_fails_otherwise_adp_5(data: bytes) -> None:
    with contextlib.suppress(RtpError):
        parse(data)


def frames(ssrc: int = 7, first: int = 1000, count: int = 10) -> list[RtpPacket]:
    return [RtpPacket(0, n, first + 160 * n, ssrc, bytes([n]) * 160, n == 0) for n in range(count)]


def played(buffer: JitterBuffer, ticks: int) -> list[int | None]:
    out = []
    for _ in range(ticks):
        frame = buffer.pop()
        out.append(None if frame is None else frame.payload[0])
    return out


def test_jitter_buffer_reorders_within_its_delay_adp_5() -> None:
    buffer = JitterBuffer(delay=2)
    packets = frames()
    order = [0, 2, 1, 3, 5, 4, 6, 7, 9, 8]
    for tick, n in enumerate(order):
        buffer.put(packets[n], tick * 0.02)
    assert played(buffer, 12) == [None, None, *range(10)]
    assert (buffer.late, buffer.lost) == (0, 0)


def test_jitter_buffer_plays_a_lost_frame_as_silence_and_drops_late_ones_adp_5() -> None:
    buffer = JitterBuffer(delay=1)
    packets = frames()
    out: list[int | None] = []
    for n in (0, 1, 2, 4, 5):
        buffer.put(packets[n], 0.0)
        out += played(buffer, 1)
    buffer.put(packets[3], 0.0)  # too late: its turn is past
    out += played(buffer, 2)
    assert out == [None, 0, 1, 2, None, 4, 5]
    assert (buffer.lost, buffer.late) == (1, 1)


def test_jitter_buffer_starts_over_on_a_new_ssrc_or_a_far_jump_adp_5() -> None:
    buffer = JitterBuffer(delay=1)
    buffer.put(frames()[0], 0.0)
    assert played(buffer, 2) == [None, 0]
    buffer.put(frames(ssrc=8, first=5)[0], 0.0)
    assert played(buffer, 2) == [None, 0]
    buffer.put(frames(ssrc=8, first=5 + 160 * 500)[1], 0.0)
    assert played(buffer, 2) == [None, 1]


def test_jitter_buffer_follows_a_talk_spurt_that_restarts_behind_it_adp_5() -> None:
    buffer = JitterBuffer(delay=1)
    for packet in frames(count=3):
        buffer.put(packet, 0.0)
    assert played(buffer, 4) == [None, 0, 1, 2]
    again = RtpPacket(0, 50, 1000, 7, b"\x09" * 160, True)  # marker, timestamp behind
    buffer.put(again, 0.0)
    assert played(buffer, 2) == [None, 9]


def test_jitter_buffer_keeps_the_delay_bounded_when_frames_pile_up_adp_5() -> None:
    buffer = JitterBuffer(delay=2)
    for packet in frames(count=40):
        buffer.put(packet, 0.0)
    out = [n for n in played(buffer, 40) if n is not None]
    assert out == sorted(out) and out[-1] == 39 and len(out) < 40  # the oldest were dropped
    assert buffer.depth == 0


def test_jitter_buffer_refuses_a_delay_outside_its_span_adp_5() -> None:
    with pytest.raises(ValueError, match="0 <= delay < span"):
        JitterBuffer(delay=5, span=5)


def test_outgoing_stream_keeps_ssrc_sequence_timestamp_continuous_adp_5() -> None:
    out = Outgoing()
    sent = []
    for n in range(6):
        if n != 3:  # one frame not sent (a pause)
            sent.append(parse(out.packet(0, b"\xff" * 160)))
        out.next_frame(n != 3)
    assert {p.ssrc for p in sent} == {out.ssrc}
    assert [(b.sequence - a.sequence) % 65536 for a, b in itertools.pairwise(sent)] == [1] * 4
    assert [(b.timestamp - a.timestamp) % 2**32 for a, b in itertools.pairwise(sent)] == [
        160,
        160,
        320,
        160,
    ]
    assert [p.marker for p in sent] == [True, False, False, True, False]


def test_dtmf_event_reported_once_whatever_the_retransmits_msg_5() -> None:
    receiver = DtmfReceiver()
    packets = event_packets("9", payload_type=101, ssrc=1, sequence=1, timestamp=8000)
    assert sum(packet.payload[1] >> 7 for packet in packets) == 3  # three end packets
    seen = [receiver.digit(p) for p in [*packets, packets[0], *reversed(packets)]]
    assert seen == ["9"] + [None] * (2 * len(packets))
    assert receiver.digit(RtpPacket(101, 9, 8000, 1, b"\x10\x80\x00\xa0")) is None  # flash
    assert receiver.digit(RtpPacket(101, 9, 9600, 1, b"\x0b")) is None  # short
    with pytest.raises(ValueError, match="not a DTMF digit"):
        event_packets("x", payload_type=101, ssrc=1, sequence=1, timestamp=1)


def test_jitter_buffer_keeps_nothing_it_will_not_play_adp_5() -> None:
    """A sender whose timestamps step 240 (30 ms) never fills the buffer up."""
    buffer = JitterBuffer(delay=2)
    for n in range(500):
        buffer.put(RtpPacket(0, n, 240 * n, 7, b"\x01" * 240), 0.0)
        buffer.pop()
        if n % 2:
            buffer.pop()  # our clock runs at 20 ms: three pops per two 30 ms packets
    assert buffer.depth <= 3
