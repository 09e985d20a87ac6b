"""ADP-5: symmetric RTP — a phone behind NAT is sent to where its RTP comes from.

Real loopback UDP sockets: the SDP names one address, the phone sends from another (host
and port, as through a NAT) and must get the mix there; an address that sent garbage, or
any address once media flows from the leg's own, is never latched to.
"""

from __future__ import annotations

from adapters.sip.media import MediaServer, RtpPeer
from adapters.sip.media.latching import PROBATION, Latch
from adapters.sip.media.legs import Leg
from adapters.sip.media.rtp import RtpPacket
from tests.adapters.sip.media.conftest import AGENT, CUSTOMER, TONES, connected, frames_pass
from tests.adapters.sip.media.phone import HOST, Phone
from tests.support import tones

NAT = "127.0.0.2"


async def test_a_phone_behind_nat_receives_the_mix_where_its_rtp_comes_from_adp_5(
    server: MediaServer,
) -> None:
    call = await connected(server, {"agent": AGENT})
    advertised, behind_nat = Phone(None), Phone(CUSTOMER, host=NAT)
    await advertised.open()
    await behind_nat.open()
    try:
        port = await server.open_leg("customer")
        server.connect("customer", RtpPeer(HOST, advertised.port, 0))  # the SDP's c=/m=
        server.hears("customer", {"agent"})
        server.hears("agent", {"customer"})
        behind_nat.send_to(port)
        marks = await call.listen(seconds=0.6)
        advertised_mark, nat_mark = advertised.mark(), behind_nat.mark()
        await frames_pass(server, 0.4)
        assert tones.heard(behind_nat.audio(nat_mark), TONES) == {AGENT}
        assert tones.heard(call.phones["agent"].audio(marks["agent"]), TONES) == {CUSTOMER}
        assert advertised.mark() == advertised_mark  # nothing more goes to the SDP address
    finally:
        for phone in (advertised, behind_nat, *call.phones.values()):
            await phone.close()


async def test_an_address_that_sent_garbage_is_never_latched_to_adp_5(
    server: MediaServer,
) -> None:
    advertised, hostile = Phone(None), Phone(CUSTOMER, host=NAT)
    await advertised.open()
    await hostile.open()
    try:
        port = await server.open_leg("customer")
        server.connect("customer", RtpPeer(HOST, advertised.port, 0))
        hostile.transport.sendto(b"\x00" * 40, (HOST, port))
        await frames_pass(server, 0.05)
        hostile.send_to(port)
        await frames_pass(server, 0.5)
        assert hostile.received == []
        assert len(advertised.received) >= 20  # the leg still sends to its SDP address
        stats = server.stats("customer")
        assert stats.packets_in == 0 and stats.rejected >= 20
    finally:
        await advertised.close()
        await hostile.close()


def packet(sequence: int, ssrc: int = 7) -> RtpPacket:
    return RtpPacket(0, sequence, sequence * 160, ssrc, b"\xff" * 160)


def test_latching_needs_consecutive_packets_of_one_stream_from_one_address_adp_5() -> None:
    latch = Latch((HOST, 4000))
    nat, other = (NAT, 5000), (NAT, 5002)
    assert not latch.admit(nat, packet(10))
    assert not latch.admit(nat, packet(12))  # a gap: probation starts again
    assert not latch.admit(nat, packet(13, ssrc=8))  # another SSRC: again
    assert not latch.admit(other, packet(14, ssrc=8))  # another address: again
    assert not latch.admit(nat, packet(15))
    assert not latch.admit(nat, packet(16))
    assert latch.target == (HOST, 4000) and not latch.locked
    assert latch.admit(nat, packet(17))
    assert latch.target == nat and latch.locked
    assert not latch.admit((HOST, 4000), packet(18))  # locked: the SDP address no longer


def test_media_from_the_sdp_address_locks_the_latch_there_adp_5() -> None:
    latch = Latch((HOST, 4000))
    assert latch.admit((HOST, 4000), packet(1))
    for n in range(2, 10):
        assert not latch.admit((NAT, 5000), packet(n))
    assert latch.target == (HOST, 4000)
    assert latch.admit((HOST, 4002), packet(1)) is False  # same host, other port: locked out


def test_the_sdp_host_is_heard_on_probation_other_hosts_only_once_latched_adp_5() -> None:
    latch = Latch((HOST, 4000))
    assert latch.admit((HOST, 4002), packet(1))  # sends from another port than it receives
    assert latch.target == (HOST, 4000)
    fresh = Latch((HOST, 4000))
    assert not fresh.admit((NAT, 5000), packet(1))


def test_a_re_invite_to_the_same_address_keeps_the_latch_adp_5() -> None:
    leg = Leg("customer", 0, lambda _leg, _digit: None)
    leg.connect(RtpPeer(HOST, 4000, 0))
    latch = leg.latch
    assert latch is not None
    for n in range(PROBATION):
        latch.admit((NAT, 5000), packet(n))
    leg.connect(RtpPeer(HOST, 4000, 8))  # hold/resume, another codec: same SDP address
    assert leg.latch is latch and latch.target == (NAT, 5000)
    leg.connect(RtpPeer(HOST, 4100, 0))  # the phone moved its media: start over
    assert leg.latch is not latch and leg.latch is not None
    assert leg.latch.target == (HOST, 4100)
