"""The voice parts of the adapter contract, for every adapter that carries calls (ADP-5, ADP-6).

One behaviour suite: a call is offered and answered and both sides talk; a voice
consultation puts the caller on hold while the agent and the consultant talk (CON-7),
the warm transfer leaves the caller with the consultant (TRF-2), and a conference joins
all three (CNF-1). The console driver reads the same story from what the console shows;
the SIP driver from the legs and mixes of real SIP peers.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from tests.support.console import RULES, Console

PLATFORMS = ["console", "sip"]


class VoiceDriver(Protocol):
    """What the voice suite asks of a driver."""

    platform: str

    async def stop(self) -> None: ...
    async def member_ready(self, member: str) -> None: ...
    async def member_types(self, member: str, text: str) -> str: ...
    async def customer_calls(self, customer: str, target: str) -> None: ...
    async def talking(self, who: str, other: str, timeout: float = 10.0) -> None: ...
    async def on_hold(self, customer: str, timeout: float = 10.0) -> None: ...
    async def hung_up(self, who: str, timeout: float = 10.0) -> None: ...


@dataclass
class ConsoleVoiceDriver:
    """Calls simulated on the console (``sim call``); hearing read from the engine's view."""

    console: Console
    platform: str = "console"

    async def stop(self) -> None:
        self.console.close()

    async def member_ready(self, member: str) -> None:
        await self.console.run(f"@{member}: ready")

    async def member_types(self, member: str, text: str) -> str:
        await self.console.run(f"@{member}: {text}")
        return self.console.last(f"@{member}")

    async def customer_calls(self, customer: str, target: str) -> None:
        await self.console.run(f"sim call {customer} {target}")
        offered = [i for i in self.console.core.engine.live.values() if i.customer == customer]
        assert offered, self.console.transcript

    def _call_of(self, who: str) -> list[object]:
        return [
            ix
            for ix in self.console.core.engine.live.values()
            if (p := ix.party(who)) is not None and p.connected and ix.state == "active"
        ]

    async def talking(self, who: str, other: str, timeout: float = 10.0) -> None:
        shared = [
            ix
            for ix in self._call_of(who)
            if (p := ix.party(other)) is not None and p.connected  # type: ignore[attr-defined]
        ]
        assert shared, f"{who} does not talk with {other}"

    async def on_hold(self, customer: str, timeout: float = 10.0) -> None:
        assert self.console.received(f"customer:{customer}", since_mark=False)[-1] == (
            "(i1) You are on hold."
        )

    async def hung_up(self, who: str, timeout: float = 10.0) -> None:
        assert not self._call_of(who)


@pytest.fixture(params=PLATFORMS)
async def voice(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VoiceDriver]:
    """A started voice driver for one platform."""
    if request.param == "console":
        found: VoiceDriver = ConsoleVoiceDriver(Console(RULES, tmp_path / "backline.db"))
    else:
        module = importlib.import_module(f"tests.adapters.contract.drivers.{request.param}")
        found = await module.open_driver(request, tmp_path)
    try:
        yield found
    finally:
        await found.stop()


async def answered(voice: VoiceDriver) -> None:
    """Ann calls sales; alice (ready) answers; they talk."""
    await voice.member_ready("alice")
    await voice.customer_calls("Ann", "rp:sales")
    if voice.platform == "console":
        await voice.member_types("alice", "accept")
    await voice.talking("customer:Ann", "@alice")
    await voice.talking("@alice", "customer:Ann")


async def test_a_call_is_offered_answered_and_both_sides_talk_adp_5(voice: VoiceDriver) -> None:
    """ADP-5: the offer reaches the ready agent; once answered, caller and agent hear each other."""
    await answered(voice)


async def test_a_voice_consultation_holds_the_caller_and_the_warm_transfer_hands_over_con_7(
    voice: VoiceDriver,
) -> None:
    """CON-7, TRF-2: consult → the caller is on hold, agent and consultant talk; transfer →
    the caller talks with the consultant and the agent is off the call."""
    await answered(voice)
    await voice.member_ready("bob")
    reply = await voice.member_types("alice", "consult @bob")
    assert "Offered to @bob" in reply, reply
    if voice.platform == "console":
        await voice.member_types("bob", "accept")
    await voice.on_hold("Ann")
    await voice.talking("@alice", "@bob")
    reply = await voice.member_types("alice", "transfer")
    assert "Warm transfer done: @bob owns i1" in reply, reply
    await voice.talking("customer:Ann", "@bob")
    await voice.hung_up("@alice")


async def test_a_conference_joins_the_third_party_cnf_1(voice: VoiceDriver) -> None:
    """CNF-1: `conference now @bob` → each of the three talks with the other two."""
    await answered(voice)
    await voice.member_ready("bob")
    await voice.member_types("alice", "conference now @bob")
    if voice.platform == "console":
        await voice.member_types("bob", "accept")
    for who, other in [("customer:Ann", "@bob"), ("@bob", "@alice"), ("@alice", "@bob")]:
        await voice.talking(who, other)
