"""The SIP driver of the contract suite's voice parts (ADP-5, ADP-6).

backline's core with the SIP adapter on real sockets; the customer is a SIPp caller with a
test RTP endpoint, members' phones are SIPp phones that register with digest and answer.
Members type their commands in chat (the console port), as they would on any platform.
What a party hears is read from the mix the adapter last gave the media side for its leg.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.adapters.sip.harness import PhoneSystem, phone_system
from tests.adapters.sip.lines import AGENT_HZ, Line, agent, caller, until
from tests.support.sipp import require_sipp

NUMBERS = {"rp:sales": "sales", "group:support": "2000"}


@dataclass
class SipVoiceDriver:
    """Calls through SIPp peers."""

    directory: Path
    platform: str = "sip"
    system: PhoneSystem | None = None
    lines: dict[str, Line] = field(default_factory=dict)
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def start(self) -> None:
        """backline with the SIP adapter."""
        require_sipp()
        self.system = await self._stack.enter_async_context(phone_system(self.directory))

    async def stop(self) -> None:
        """Hang up every peer and stop."""
        for line in self.lines.values():
            await line.close()
        await self._stack.aclose()

    @property
    def running(self) -> PhoneSystem:
        """The started system."""
        assert self.system is not None
        return self.system

    async def member_ready(self, member: str) -> None:
        """The member's phone registers and answers; they are ready."""
        self.lines[f"@{member}"] = await agent(self.running, self.directory, member, AGENT_HZ)
        await self.running.type(member, "ready")

    async def member_types(self, member: str, text: str) -> str:
        """A member's command typed in chat; the reply."""
        return await self.running.type(member, text)

    async def customer_calls(self, customer: str, target: str) -> None:
        """The customer dials the number of ``target``."""
        line = await caller(self.running, self.directory, customer, NUMBERS[target])
        self.lines[f"customer:{customer}"] = line

    async def customer_hangs_up(self, customer: str) -> None:
        """The caller hangs up (the SIPp caller is stopped; backline sees no BYE, so the
        member ends the call — the way a dropped trunk call ends)."""
        line = self.lines.pop(f"customer:{customer}")
        await line.close()

    async def talking(self, who: str, other: str, timeout: float = 10.0) -> None:
        """Wait until ``who`` hears ``other`` (both have legs in one mix)."""
        await until(lambda: other in self.hears(who), timeout)

    async def on_hold(self, customer: str, timeout: float = 10.0) -> None:
        """Wait until the customer hears hold music and no member."""
        calls = self.running.adapter.calls
        who = f"customer:{customer}"

        def held() -> bool:
            dialog = calls.dialogs.of(who)
            return dialog is not None and dialog.leg in calls.music and not self.hears(who)

        await until(held, timeout)

    def hears(self, who: str) -> set[str]:
        """The parties mixed into what ``who`` is sent now."""
        calls = self.running.adapter.calls
        dialog = calls.dialogs.of(who)
        if dialog is None:
            return set()
        sources = calls.mixed.get(dialog.leg, frozenset())
        return {d.who for d in calls.dialogs.all() if d.leg in sources}

    async def hung_up(self, who: str, timeout: float = 10.0) -> None:
        """Wait until ``who`` has no leg."""
        await until(lambda: self.running.adapter.calls.dialogs.of(who) is None, timeout)


async def open_driver(request: pytest.FixtureRequest, tmp_path: Path) -> SipVoiceDriver:
    """A started SIP voice driver."""
    found = SipVoiceDriver(tmp_path)
    await found.start()
    return found
