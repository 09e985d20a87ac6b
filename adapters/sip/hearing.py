"""Who hears whom, from the engine's view of the calls (CNF-2, CON-7, SUP-1..3).

A pure function of ``VoiceCall`` views, so it is the same whether a command came from
chat or from a phone: in an active call each connected party hears the others, but a
muted party is heard by nobody, a monitor by nobody, a coach by the agent (and other
supervisors) only; a barger by all. A held call's customer hears hold music and is
heard by nobody; its members still hear each other. A voice consultation joins its
initiator and consultant while it is active. A party in several calls hears the union.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.port import VoiceCall, VoiceLeg

TALKING = ("active", "held")
SUPERVISING = ("monitor", "coach", "barger")


@dataclass(frozen=True)
class Hearing:
    """``hears[who]``: the parties mixed into what ``who`` is sent; ``music``: on hold."""

    hears: dict[str, frozenset[str]]
    music: frozenset[str]

    def on_line(self) -> frozenset[str]:
        """Every party that should have a live audio leg."""
        return frozenset(self.hears) | self.music


def heard_by(speaker: VoiceLeg, listener: VoiceLeg) -> bool:
    """Whether ``listener`` hears ``speaker`` in an active call."""
    if speaker.who == listener.who or speaker.muted or speaker.role == "monitor":
        return False
    if speaker.role == "coach":
        return listener.member == speaker.about or listener.role in SUPERVISING
    return True


def hearing(calls: Iterable[VoiceCall]) -> Hearing:
    """Who hears whom across ``calls`` (calls not talking are left out)."""
    hears: dict[str, set[str]] = {}
    music: set[str] = set()
    for call in calls:
        if not call.live or call.state not in TALKING:
            continue
        legs = [leg for leg in call.legs if leg.connected]
        held = call.state == "held"
        if held and call.customer is not None:
            music.add(call.customer)
            legs = [leg for leg in legs if leg.who != call.customer]
        if held and call.kind == "consultation":
            legs = []
        for listener in legs:
            heard = {s.who for s in legs if heard_by(s, listener)}
            hears.setdefault(listener.who, set()).update(heard)
    return Hearing({who: frozenset(h) for who, h in hears.items()}, frozenset(music - set(hears)))
