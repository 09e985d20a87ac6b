"""Symmetric RTP (RFC 4961) for phones behind NAT: send to where a leg's RTP comes from.

A phone behind NAT puts its private address in SDP (``c=``/``m=``) while its packets arrive
from the NAT's public address and port. A ``Latch`` starts by sending to the SDP address.
Packets from that address are accepted and lock the latch there. Until it is locked,
packets from another address are on probation: once ``PROBATION`` of them in a row come
from one address with one SSRC and consecutive sequence numbers, the latch moves there
and locks. Meanwhile packets from the SDP host on another port are taken in (a phone that
sends from another port than it receives on), those from other hosts are not. A locked
latch accepts only its address, so a stream cannot be taken over once media flows; an
address that sent anything that is not RTP is never latched to.
"""

from __future__ import annotations

from typing import Final

from adapters.sip.media.rtp import RtpPacket

Address = tuple[str, int]
PROBATION: Final = 3
"""Packets in a row, one SSRC, consecutive sequence numbers, before moving the latch."""
_TAINTED: Final = 64
"""Addresses that sent garbage, remembered per leg (oldest forgotten first)."""


class Latch:
    """Where one leg sends, and whose packets it takes (see the module docstring)."""

    def __init__(self, sdp: Address) -> None:
        self.sdp = sdp
        self.target = sdp
        """Where the leg sends its RTP."""
        self.locked = False
        """Media came from ``target``: no other address is accepted any more."""
        self._candidate: tuple[Address, int, int] | None = None
        """The address on probation, its SSRC and last sequence number."""
        self._count = 0
        self._tainted: dict[Address, None] = {}

    def admit(self, source: Address, packet: RtpPacket) -> bool:
        """Whether ``packet`` from ``source`` belongs to the leg (latching on the way)."""
        if source == self.target:
            self.locked = True
            return True
        if self.locked or source in self._tainted:
            return False
        candidate = self._candidate
        if (
            candidate is not None
            and candidate[:2] == (source, packet.ssrc)
            and packet.sequence == (candidate[2] + 1) % 65536
        ):
            self._count += 1
        else:
            self._count = 1
        self._candidate = (source, packet.ssrc, packet.sequence)
        if self._count < PROBATION:
            return source[0] == self.sdp[0]
        self.target, self.locked, self._candidate = source, True, None
        return True

    def garbage(self, source: Address) -> None:
        """``source`` sent something that is not RTP: never latch to it."""
        if source == self.target:
            return
        self._tainted[source] = None
        while len(self._tainted) > _TAINTED:
            del self._tainted[next(iter(self._tainted))]
        if self._candidate is not None and self._candidate[0] == source:
            self._candidate, self._count = None, 0
