"""ADP-5, CON-7: what phones rely on in the RTP stream, on real loopback UDP sockets."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Iterator

import pytest

from adapters.sip.media import HOLD, MediaError, MediaServer, RtpPeer
from adapters.sip.media.rtp import RtpPacket
from tests.adapters.sip.media.conftest import (
    AGENT,
    CUSTOMER,
    TONES,
    Call,
    connected,
    frames_pass,
)
from tests.adapters.sip.media.phone import HOST, Arrival, Phone
from tests.support import tones


def assert_continuous(arrivals: list[Arrival]) -> None:
    packets = [a.packet for a in arrivals]
    assert len({p.ssrc for p in packets}) == 1
    steps = {
        ((b.sequence - a.sequence) % 65536, (b.timestamp - a.timestamp) % 2**32)
        for a, b in itertools.pairwise(packets)
    }
    assert steps == {(1, 160)}, steps


async def test_the_stream_stays_continuous_across_prompt_and_mix_switches_con_7(
    call: Call,
) -> None:
    server = call.server
    server.hears("customer", {"agent"})
    await frames_pass(server, 0.2)
    server.play("customer", HOLD)
    await frames_pass(server, 0.2)
    server.stop_playing("customer")
    await frames_pass(server, 0.1)
    server.hears("customer", set())
    server.connect("customer", RtpPeer(HOST, call.phones["customer"].port, 0, 101))  # re-INVITE
    await frames_pass(server, 0.2)
    received = call.phones["customer"].received
    assert len(received) >= 30
    assert received[0].packet.marker
    assert_continuous(received)


async def test_a_held_leg_that_is_not_sent_to_resumes_the_same_stream_con_7(call: Call) -> None:
    server = call.server
    phone = call.phones["customer"]
    await frames_pass(server, 0.1)
    server.direction("customer", send=False, receive=True)
    await frames_pass(server, 0.1)
    mark = phone.mark()
    await frames_pass(server, 0.2)
    assert phone.mark() == mark  # inactive: nothing sent
    server.direction("customer", send=True, receive=True)
    await frames_pass(server, 0.2)
    before, after = phone.received[mark - 1].packet, phone.received[mark].packet
    assert after.ssrc == before.ssrc and after.marker
    assert (after.sequence - before.sequence) % 65536 == 1
    assert (after.timestamp - before.timestamp) % 2**32 > 160 * 5  # the clock ran on


async def test_a_leg_not_received_from_is_heard_by_nobody_adp_5(call: Call) -> None:
    call.server.hears("customer", {"agent"})
    call.server.direction("agent", send=True, receive=False)
    marks = await call.listen()
    assert tones.heard(call.phones["customer"].audio(marks["customer"]), TONES) == set()


def reordered_and_lossy(stream: Iterator[RtpPacket]) -> Iterator[RtpPacket]:
    """Swap every other pair of packets and drop every tenth."""
    for n, (first, second) in enumerate(zip(stream, stream, strict=False)):
        pair = (second, first) if n % 2 else (first, second)
        for packet in pair:
            if packet.sequence % 10:
                yield packet


async def test_reordered_and_lost_packets_still_give_a_steady_stream_adp_5(
    server: MediaServer,
) -> None:
    call = await connected(server, {"listener": None})
    talker = Phone(CUSTOMER, shuffle=reordered_and_lossy)
    await talker.open()
    try:
        port = await server.open_leg("talker")
        server.connect("talker", RtpPeer(HOST, talker.port, 0))
        talker.send_to(port)
        server.hears("listener", {"talker"})
        marks = await call.listen(seconds=1.0, settle=0.2)
        received = call.phones["listener"].received
        assert_continuous(received)
        assert tones.heard(call.phones["listener"].audio(marks["listener"]), TONES) == {CUSTOMER}
        stats = server.stats("talker")
        assert stats.lost >= 4 and stats.late == 0
        assert stats.packets_in > 40 and stats.packets_out > 40
        assert 0 <= stats.jitter < 40
    finally:
        await talker.close()
        for phone in call.phones.values():
            await phone.close()


async def test_pcma_and_pcmu_legs_hear_each_other_adp_5(server: MediaServer) -> None:
    alaw, ulaw = Phone(CUSTOMER, payload_type=8), Phone(AGENT)
    try:
        for name, phone in (("alaw", alaw), ("ulaw", ulaw)):
            await phone.open()
            port = await server.open_leg(name)
            assert port % 2 == 0
            server.connect(name, RtpPeer(HOST, phone.port, phone.payload_type))
            phone.send_to(port)
        server.hears("alaw", {"ulaw"})
        server.hears("ulaw", {"alaw"})
        await frames_pass(server, 0.2)
        mark_a, mark_u = alaw.mark(), ulaw.mark()
        await frames_pass(server, 0.4)
        assert tones.heard(alaw.audio(mark_a), TONES) == {AGENT}
        assert tones.heard(ulaw.audio(mark_u), TONES) == {CUSTOMER}
        assert {a.packet.payload_type for a in alaw.received} == {8}
    finally:
        await alaw.close()
        await ulaw.close()


async def test_rtp_from_another_address_or_garbage_is_dropped_adp_5(call: Call) -> None:
    """The leg's phone sends from its SDP address: an intruder elsewhere is neither heard
    nor sent to, and garbage is dropped."""
    phone, intruder = Phone(None), Phone(2000.0, host="127.0.0.2")
    await phone.open()
    await intruder.open()
    try:
        leg_port = await call.server.open_leg("target")
        call.server.connect("target", RtpPeer(HOST, phone.port, 0))
        call.server.hears("customer", {"target"})
        phone.send_to(leg_port)
        await frames_pass(call.server, 0.1)
        intruder.send_to(leg_port)
        for junk in (b"", b"\x00" * 5, b"\x40" * 40, b"\xff" * 200):
            call.phones["agent"].send_raw(junk, leg_port)
        marks = await call.listen()
        assert tones.heard(call.phones["customer"].audio(marks["customer"]), (2000.0,)) == set()
        assert intruder.received == [] and len(phone.received) >= 20
        assert call.server.stats("target").rejected >= 20  # the junk and the intruder's RTP
    finally:
        await phone.close()
        await intruder.close()


async def test_closing_a_leg_frees_it_and_the_others_stop_hearing_it_adp_5(call: Call) -> None:
    server = call.server
    server.hears("customer", {"agent"})
    await server.close_leg("agent")
    with pytest.raises(MediaError, match="no open leg 'agent'"):
        server.stats("agent")
    marks = await call.listen()
    assert tones.heard(call.phones["customer"].audio(marks["customer"]), TONES) == set()
    port = await server.open_leg("agent")  # the name can be used again
    assert port % 2 == 0
    with pytest.raises(MediaError, match="already open"):
        await server.open_leg("agent")


async def test_play_once_returns_when_its_leg_closes_adp_5(call: Call) -> None:
    waiting = asyncio.ensure_future(call.server.play_once("customer", HOLD))
    await asyncio.sleep(0.1)
    await call.server.close_leg("customer")
    await asyncio.wait_for(waiting, 1.0)


async def test_open_leg_skips_busy_ports_and_says_when_none_is_free_adp_5() -> None:
    """RTP on an even port, RTCP on the odd one above: a pair half taken is skipped."""
    server = MediaServer(ports=(23000, 23005))
    await server.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind((HOST, 23001))  # someone else's socket on the first pair's RTCP port
        try:
            ports = [await server.open_leg("a"), await server.open_leg("b")]
            assert sorted(ports) == [23002, 23004]
            with pytest.raises(MediaError, match=r"no free even UDP port .* 23000-23005"):
                await server.open_leg("c")
            await server.close_leg("a")
            assert await server.open_leg("c") in ports  # closing freed both of its ports
        finally:
            await server.stop()


@pytest.mark.parametrize(
    ("peer", "reason"),
    [
        (lambda: RtpPeer("phone.example", 4000, 0), "must be an IP address"),
        (lambda: RtpPeer(HOST, 0, 0), "outside 1-65535"),
        (lambda: RtpPeer(HOST, 4000, 18), "not G.711"),
        (lambda: RtpPeer(HOST, 4000, 0, 13), "not dynamic"),
        (lambda: MediaServer(ports=(0, 10)), "not within"),
        (lambda: MediaServer(ports=(23001, 23002)), "no even RTP port with RTCP above"),
    ],
)
def test_bad_peers_and_port_ranges_are_refused_with_a_reason_adp_5(peer, reason) -> None:
    with pytest.raises(MediaError, match=reason):
        peer()


async def test_play_once_before_the_clock_runs_is_refused_adp_5() -> None:
    server = MediaServer(ports=(23004, 23010))
    try:
        await server.open_leg("a")
        with pytest.raises(MediaError, match="not started"):
            await server.play_once("a", HOLD)
    finally:
        await server.stop()


async def test_a_flooded_rtp_port_does_not_silence_the_other_legs_adp_5(call: Call) -> None:
    """Each socket is read a bounded number of times per tick: the kernel drops the rest."""
    server = call.server
    server.hears("customer", {"agent"})
    flooded = await server.open_leg("flooded")
    server.connect("flooded", RtpPeer(HOST, call.phones["supervisor"].port, 0))
    attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(5000):
            attacker.sendto(b"\x80" + b"\x00" * 200, (HOST, flooded))
        marks = await call.listen()
        assert tones.heard(call.phones["customer"].audio(marks["customer"]), TONES) == {AGENT}
        assert server.stats("flooded").packets_out >= 20  # its own stream runs on too
    finally:
        attacker.close()
