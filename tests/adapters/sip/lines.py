"""Parties on the phone for audio tests: SIPp signals, a test RTP endpoint sends a tone.

Each ``Line`` is one SIPp process (a registered agent phone, or a caller) whose SDP names
the RTP port of a ``Phone`` that sends one tone and keeps what it receives; ``hears``
runs Goertzel over what arrived in a fresh stretch of time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from tests.adapters.sip.harness import EXTENSIONS, PhoneSystem, password
from tests.adapters.sip.media.phone import Phone
from tests.support import tones
from tests.support.sipp import Sipp

CUSTOMER_HZ, AGENT_HZ, THIRD_HZ = 440.0, 880.0, 1320.0
TONES = (CUSTOMER_HZ, AGENT_HZ, THIRD_HZ)


@dataclass
class Line:
    """One party: ``who`` (``@alice`` / ``customer:Ann``), its SIPp and its RTP phone."""

    who: str
    sipp: Sipp
    phone: Phone
    sending: bool = False

    async def close(self) -> None:
        """Stop SIPp and the RTP endpoint."""
        self.sipp.stop()
        if self.sipp.process is not None:
            await self.sipp.wait(5)
        await self.phone.close()


async def register(system: PhoneSystem, directory: Path, extension: str, contact: int) -> None:
    """A phone answering on ``contact`` registers as ``extension`` (digest)."""
    reg = Sipp(directory / f"reg-{extension}")
    fields = reg.fields(f"{extension};;{contact}")
    credentials = ("-au", extension, "-ap", password(extension))
    outcome = await reg.run("register", system.target, "-inf", str(fields), *credentials)
    assert outcome.ok, outcome.output + reg.errors()


async def agent(system: PhoneSystem, directory: Path, member: str, hz: float) -> Line:
    """``member``'s desk phone, registered, answering every call with ``hz``."""
    phone = Phone(hz)
    await phone.open()
    sipp = Sipp(directory / member)
    await register(system, directory, EXTENSIONS[member], sipp.port)
    await sipp.start("phone_answers_rtp", None, "-inf", str(sipp.fields(str(phone.port))))
    return Line(f"@{member}", sipp, phone)


async def caller(system: PhoneSystem, directory: Path, name: str, number: str) -> Line:
    """A customer ``name`` dialling ``number`` and sending the customer tone."""
    phone = Phone(CUSTOMER_HZ)
    await phone.open()
    sipp = Sipp(directory / name)
    fields = str(sipp.fields(str(phone.port)))
    await sipp.start("caller_rtp", system.target, "-s", number, "-inf", fields)
    return Line(f"customer:{name}", sipp, phone)


async def until(check: object, timeout: float = 10.0) -> None:
    """Wait until ``check()`` is true."""
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


def leg_port(system: PhoneSystem, who: str) -> int | None:
    """backline's RTP port for the party's leg, once it is connected."""
    dialog = system.adapter.calls.dialogs.of(who)
    if dialog is None or not (dialog.confirmed or dialog.answer is not None):
        return None
    return system.adapter.calls.rtp_ports.get(dialog.leg)


async def connected(system: PhoneSystem, *lines: Line) -> None:
    """Wait until each line has a leg, and start its tone towards it."""
    for line in lines:
        await until(lambda line=line: leg_port(system, line.who) is not None)
        if not line.sending:
            port = leg_port(system, line.who)
            assert port is not None
            line.phone.send_to(port)
            line.sending = True


async def listen(system: PhoneSystem, *lines: Line, seconds: float = 0.8) -> dict[str, set[float]]:
    """After the legs settle, which tones each line hears over ``seconds``."""
    await system.settled()
    await asyncio.sleep(0.3)  # the mix follows within a frame; the jitter buffer adds two
    marks = {line.who: line.phone.mark() for line in lines}
    await asyncio.sleep(seconds)
    return {line.who: tones.heard(line.phone.audio(marks[line.who]), TONES) for line in lines}


def music(system: PhoneSystem, who: str) -> bool:
    """Whether the party's leg is being played hold music."""
    dialog = system.adapter.calls.dialogs.of(who)
    return dialog is not None and dialog.leg in system.adapter.calls.music
