"""ADP-5, CON-7, MSG-4, MSG-5: hold music, prompts, recording and DTMF on real UDP legs."""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

import pytest

from adapters.sip.media import HOLD, MediaError, MediaServer, PromptError, RtpPeer
from adapters.sip.media.dtmf import event_packets
from adapters.sip.media.prompts import HOLD_NOTES
from tests.adapters.sip.media.conftest import AGENT, CUSTOMER, PORTS, TONES, Call, frames_pass
from tests.adapters.sip.media.phone import HOST, Phone
from tests.support import tones

ROOT = Path(__file__).resolve().parents[4]
HOLD_WAV = ROOT / "rules" / "sounds" / "hold.wav"


async def test_a_held_customer_hears_hold_music_not_the_agent_con_7(call: Call) -> None:
    call.server.hears("customer", {"agent"})
    call.server.play("customer", HOLD)
    marks = await call.listen(seconds=2.2)
    audio = call.phones["customer"].audio(marks["customer"])
    assert tones.heard_anywhere(audio, (*HOLD_NOTES, *TONES)) == set(HOLD_NOTES)
    call.server.stop_playing("customer")
    marks = await call.listen()
    assert tones.heard(call.phones["customer"].audio(marks["customer"]), TONES) == {AGENT}


async def test_hold_music_from_the_shipped_wav_reaches_the_held_leg_con_7() -> None:
    samples = tones.read_wav(HOLD_WAV)
    assert 1.0 <= len(samples) / tones.RATE <= 10.0
    server = MediaServer(ports=PORTS, hold_music=HOLD_WAV)
    await server.start()
    phone = Phone(None)
    await phone.open()
    try:
        port = await server.open_leg("customer")
        server.connect("customer", RtpPeer(HOST, phone.port, 8))
        phone.send_to(port)
        server.play("customer", HOLD)
        await frames_pass(server, len(samples) / tones.RATE + 0.2)
        got = phone.audio()
        notes = tones.heard_anywhere(samples, range(200, 2000, 10))
        assert notes, "the hold WAV has no clear tone"
        assert tones.heard_anywhere(got, notes, threshold=tones.PRESENT_DB - 6) == notes
        assert {p.packet.payload_type for p in phone.received} == {8}
    finally:
        await phone.close()
        await server.stop()


async def test_play_once_returns_when_played_out_then_the_mix_resumes_msg_5(
    call: Call, tmp_path: Path
) -> None:
    greeting = tones.write_wav(tmp_path / "greeting.wav", tones.tone(1000, 0.3))
    call.server.hears("customer", {"agent"})
    mark = call.phones["customer"].mark()
    start = time.monotonic()
    await call.server.play_once("customer", greeting)
    assert 0.28 <= time.monotonic() - start <= 3.0  # 15 frames, however busy the machine
    marks = await call.listen()
    phone = call.phones["customer"]
    assert 1000 in tones.heard(phone.audio(mark)[: 160 * 20], (1000, AGENT))
    assert tones.heard(phone.audio(marks["customer"]), (1000, AGENT)) == {AGENT}


async def test_recording_a_leg_keeps_what_it_sends_msg_4(call: Call, tmp_path: Path) -> None:
    call.server.record("customer", tmp_path / "message.wav")
    await frames_pass(call.server, 0.6)
    seconds = call.server.stop_recording("customer")
    recorded = tones.read_wav(tmp_path / "message.wav")
    assert seconds == pytest.approx(0.6, abs=0.021)
    assert len(recorded) == round(seconds * tones.RATE)
    assert tones.heard(recorded[800:], TONES) == {CUSTOMER}


async def test_dtmf_digits_are_reported_once_per_key_press_msg_5(call: Call) -> None:
    digits: list[tuple[str, str]] = []
    call.server.on_dtmf(lambda leg, digit: digits.append((leg, digit)))
    phone = call.phones["agent"]
    sequence, timestamp = 30000, 900000
    for digit in "1#7":
        packets = event_packets(
            digit, payload_type=101, ssrc=phone.ssrc, sequence=sequence, timestamp=timestamp
        )
        packets.insert(2, packets[1])  # a duplicate on the way
        for packet in packets:
            phone.send_raw(packet.to_bytes())
            await asyncio.sleep(0.005)
        sequence += len(packets)
        timestamp += 1600
    await asyncio.sleep(0.1)
    assert digits == [("agent", "1"), ("agent", "#"), ("agent", "7")]


async def test_a_broken_dtmf_callback_does_not_stop_the_others_msg_5(call: Call) -> None:
    digits: list[str] = []

    def broken(leg: str, digit: str) -> None:
        raise RuntimeError("boom")

    call.server.on_dtmf(broken)
    call.server.on_dtmf(lambda leg, digit: digits.append(digit))
    for packet in event_packets("5", payload_type=101, ssrc=9, sequence=1, timestamp=1):
        call.phones["customer"].send_raw(packet.to_bytes())
    await asyncio.sleep(0.1)
    assert digits == ["5"]


async def test_an_unplayable_prompt_is_refused_and_the_leg_keeps_its_mix_adp_5(
    call: Call, tmp_path: Path
) -> None:
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(b"\0\0\0\0" * 100)
    call.server.hears("customer", {"agent"})
    with pytest.raises(PromptError, match="44100 Hz, 2 channel"):
        call.server.play("customer", stereo)
    with pytest.raises(PromptError, match="cannot read"):
        call.server.play("customer", tmp_path / "missing.wav")
    with pytest.raises(MediaError, match="no open leg 'nobody'"):
        call.server.play("nobody", HOLD)
    marks = await call.listen()
    assert tones.heard(call.phones["customer"].audio(marks["customer"]), TONES) == {AGENT}


async def test_recording_twice_or_stopping_no_recording_is_refused_adp_5(
    call: Call, tmp_path: Path
) -> None:
    with pytest.raises(MediaError, match="not recording"):
        call.server.stop_recording("agent")
    call.server.record("agent", tmp_path / "a.wav")
    with pytest.raises(MediaError, match="already recording"):
        call.server.record("agent", tmp_path / "b.wav")
    with pytest.raises(MediaError, match="cannot record"):
        call.server.record("customer", tmp_path / "no" / "such" / "dir.wav")
    assert call.server.stop_recording("agent") >= 0.0
