"""ADP-5, CNF-2, SUP-1..3: who hears whom, by Goertzel on what each phone really received.

Three phones on loopback UDP send 440 Hz (customer), 880 Hz (agent) and 1320 Hz
(supervisor) as 20 ms PCMU RTP to their legs; the server mixes what each leg hears and the
tones present in what each phone got back say who hears whom, and that nobody hears
themselves.
"""

from __future__ import annotations

import pytest

from adapters.sip.media import MediaError, MediaServer
from tests.adapters.sip.media.conftest import AGENT, CUSTOMER, SUPERVISOR, TONES, Call, connected
from tests.support import tones

EVERYONE = {"customer", "agent", "supervisor"}
OTHERS = {name: EVERYONE - {name} for name in EVERYONE}
SCENARIOS = {
    "conference": (
        OTHERS,
        {
            "customer": {AGENT, SUPERVISOR},
            "agent": {CUSTOMER, SUPERVISOR},
            "supervisor": {CUSTOMER, AGENT},
        },
    ),
    "monitor": (
        {"customer": {"agent"}, "agent": {"customer"}, "supervisor": {"customer", "agent"}},
        {"customer": {AGENT}, "agent": {CUSTOMER}, "supervisor": {CUSTOMER, AGENT}},
    ),
    "coach": (
        {
            "customer": {"agent"},
            "agent": {"customer", "supervisor"},
            "supervisor": {"customer", "agent"},
        },
        {"customer": {AGENT}, "agent": {CUSTOMER, SUPERVISOR}, "supervisor": {CUSTOMER, AGENT}},
    ),
    "barge": (
        {name: EVERYONE for name in EVERYONE},
        {
            "customer": {AGENT, SUPERVISOR},
            "agent": {CUSTOMER, SUPERVISOR},
            "supervisor": {CUSTOMER, AGENT},
        },
    ),
    "mute agent": (
        {
            "customer": {"supervisor"},
            "agent": {"customer", "supervisor"},
            "supervisor": {"customer"},
        },
        {"customer": {SUPERVISOR}, "agent": {CUSTOMER, SUPERVISOR}, "supervisor": {CUSTOMER}},
    ),
}


async def heard_by_each(call: Call, sets: dict[str, set[str]]) -> dict[str, set[float]]:
    for leg, sources in sets.items():
        call.server.hears(leg, sources)
    marks = await call.listen()
    return {
        name: tones.heard(phone.audio(marks[name]), TONES) for name, phone in call.phones.items()
    }


async def test_conference_monitor_coach_barge_mute_by_tone_cnf_2_sup_1_sup_2_sup_3(
    call: Call,
) -> None:
    """One call switches through every mode, as a supervisor would switch on the fly (SUP-4)."""
    for mode, (sets, expected) in SCENARIOS.items():
        assert await heard_by_each(call, sets) == expected, mode


async def test_nobody_hears_themselves_even_when_listed_adp_5(call: Call) -> None:
    heard = await heard_by_each(call, {name: EVERYONE for name in EVERYONE})
    for name, hz in (("customer", CUSTOMER), ("agent", AGENT), ("supervisor", SUPERVISOR)):
        assert hz not in heard[name]


async def test_an_empty_mix_is_comfort_silence_not_a_gap_adp_5(call: Call) -> None:
    marks = await call.listen(seconds=0.5)
    for name, phone in call.phones.items():
        got = phone.received[marks[name] :]
        assert len(got) >= 20, name
        assert tones.heard(phone.audio(marks[name]), TONES) == set(), name
        assert max(abs(int(s)) for s in phone.audio(marks[name])) == 0


async def test_hearing_a_leg_that_is_not_open_is_refused_and_changes_nothing_adp_5(
    call: Call,
) -> None:
    call.server.hears("customer", {"agent"})
    with pytest.raises(MediaError, match="not open: \\['ghost'\\]"):
        call.server.hears("customer", {"agent", "ghost"})
    marks = await call.listen()
    assert tones.heard(call.phones["customer"].audio(marks["customer"]), TONES) == {AGENT}


async def test_two_conferences_side_by_side_never_leak_into_each_other_cnf_2(
    server: MediaServer,
) -> None:
    """Six phones, two 3-party conferences mixed in the same batch every tick."""
    rooms = {"a": (440.0, 880.0, 1320.0), "b": (600.0, 1000.0, 1500.0)}
    legs = {f"{room}{n}": hz for room, freqs in rooms.items() for n, hz in enumerate(freqs)}
    call = await connected(server, legs)
    try:
        for leg in legs:
            server.hears(leg, {other for other in legs if other[0] == leg[0]})
        marks = await call.listen()
        every = tuple(legs.values())
        for leg, hz in legs.items():
            expected = set(rooms[leg[0]]) - {hz}
            assert tones.heard(call.phones[leg].audio(marks[leg]), every) == expected, leg
    finally:
        for phone in call.phones.values():
            await phone.close()
