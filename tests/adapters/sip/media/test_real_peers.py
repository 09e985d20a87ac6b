"""ADP-5, MSG-5: real peers' RTP into ``MediaServer`` legs (the media side has no SIP itself).

SIPp answers the call with an SDP that points the caller's RTP at a ``MediaServer`` leg.
baresip, as the caller, sends 440 Hz from a WAV while a second leg is a plain UDP phone
sending 880 Hz: each hears only the other's tone, through the jitter buffer, the batch mixer
and the G.711 tables. SIPp, as the caller, plays the RFC 4733 key presses captured in its
own pcaps: each digit is reported once.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from adapters.sip.media import MediaServer, RtpPeer
from tests.adapters.sip.media.phone import HOST, Phone
from tests.adapters.sip.media.sipp import SCENARIOS, Sipp
from tests.support import tones
from tests.support.baresip import Baresip, baresip_missing
from tests.support.prosody import env_in_ci

PCAPS = Path("/usr/share/sip-tester")

if (baresip_missing() or shutil.which("sipp") is None) and not env_in_ci():
    pytest.skip("baresip or sipp is not installed", allow_module_level=True)


def free_rtp_pair() -> int:
    """An even UDP port free on loopback with the odd one above it (for RTCP)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            port: int = probe.getsockname()[1] & ~1
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b,
            ):
                a.bind((HOST, port))
                b.bind((HOST, port + 1))
                return port
        except OSError:
            continue
    raise RuntimeError("no free RTP port pair")


async def test_baresip_and_a_socket_phone_hear_each_other_through_the_mixer_adp_5(
    server: MediaServer, tmp_path: Path
) -> None:
    desk_leg = await server.open_leg("desk")
    other = Phone(880.0)
    await other.open()
    other_leg = await server.open_leg("other")
    server.connect("other", RtpPeer(HOST, other.port, 0))
    other.send_to(other_leg)
    rtp = free_rtp_pair()
    server.connect("desk", RtpPeer(HOST, rtp, 0, 101))
    server.hears("desk", {"other"})
    server.hears("other", {"desk"})
    wav = tones.write_wav(tmp_path / "tone.wav", tones.tone(440, 10.0))
    desk = Baresip(tmp_path / "baresip", wav, rtp_ports=(rtp, rtp + 1))
    scenario = str(SCENARIOS / "uas_media_leg.xml")
    sipp = Sipp(tmp_path, "-sf", scenario, "-key", "leg_port", str(desk_leg))
    try:
        desk.start(dial=f"sip:media@127.0.0.1:{sipp.port}", seconds=4)
        await asyncio.to_thread(desk.wait_for_log, "Call established", 10)
        mark = other.mark()
        assert await asyncio.to_thread(desk.wait, 20) == 0
        heard_by_other = other.audio(mark)
    finally:
        desk.stop()
        sipp.stop()
        await other.close()
    heard_by_desk = tones.read_wav(desk.heard())
    assert tones.heard(heard_by_desk[tones.RATE // 2 :], (440, 880)) == {880}, desk.log_text()
    assert tones.heard(heard_by_other[tones.RATE // 2 :], (440, 880)) == {440}
    stats = server.stats("desk")
    assert stats.packets_in >= 100 and stats.late + stats.lost < stats.packets_in // 10


async def test_dtmf_captured_from_a_real_phone_is_reported_once_per_key_msg_5(
    server: MediaServer, tmp_path: Path
) -> None:
    """SIPp plays its RFC 4733 pcaps (1, 5, #; end packets thrice) into a leg via a UAS."""
    digits: list[tuple[str, str]] = []
    server.on_dtmf(lambda leg, digit: digits.append((leg, digit)))
    leg = await server.open_leg("caller")
    server.connect("caller", RtpPeer(HOST, 9, 8, 101))
    answering = Sipp(
        tmp_path, "-sf", str(SCENARIOS / "uas_media_leg.xml"), "-key", "leg_port", str(leg)
    )
    target = f"127.0.0.1:{answering.port}"
    (tmp_path / "pcap").mkdir()
    for name in ("1", "5", "pound"):
        shutil.copy(PCAPS / f"dtmf_2833_{name}.pcap", tmp_path / "pcap")
    calling = Sipp(tmp_path, "-sf", str(SCENARIOS / "uac_dtmf_pcap.xml"), target)
    try:
        assert await asyncio.to_thread(calling.process.wait, 30) == 0
    finally:
        calling.stop()
        answering.stop()
    assert digits == [("caller", "1"), ("caller", "5"), ("caller", "#")]
    assert server.stats("caller").packets_in == 30
