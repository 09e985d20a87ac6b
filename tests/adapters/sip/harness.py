"""backline's core with the SIP adapter in this process, on real sockets, for SIPp and baresip.

The rules are the demo's, with each member who has a ``voice`` extension given that
extension as their ``sip`` handle; every phone's password is ``pw-EXTENSION``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import yaml

from adapters.sip.adapter import SipAdapter
from adapters.sip.config import SipConfig
from adapters.sip.transactions import Timers
from bot.clock import SystemClock
from bot.core import Core
from bot.port import Port, VoiceCall
from tests.support.console import RULES

EXTENSIONS = {"alice": "1001", "bob": "1002", "chen": "1003", "dana": "1004", "sam": "1100"}


def password(extension: str) -> str:
    """The test password of a phone."""
    return f"pw-{extension}"


def sip_rules(directory: Path, policy_edits: tuple[tuple[str, str], ...] = ()) -> Path:
    """A copy of the demo rules where members' extensions are their SIP handles."""
    rules = directory / "rules"
    if not rules.exists():
        shutil.copytree(RULES, rules)
    path = rules / "directory.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for member in data["members"]:
        if member["id"] in EXTENSIONS:
            member.setdefault("handles", {})["sip"] = EXTENSIONS[member["id"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    for old, new in policy_edits:
        assert old in text, old
        text = text.replace(old, new)
    policy.write_text(text, encoding="utf-8")
    return rules


def config(**changes: object) -> SipConfig:
    """Settings for a test system: any free port, every test phone's password."""
    passwords = ",".join(f"{ext}:{password(ext)}" for ext in EXTENSIONS.values())
    base = SipConfig(enabled=True, port=0, passwords=passwords, trunks="127.0.0.1")
    return replace(base, **changes)  # type: ignore[arg-type]


class PhoneSystem:
    """The core, its SIP adapter, and a console port to type members' commands."""

    def __init__(self, core: Core, adapter: SipAdapter) -> None:
        self.core = core
        self.adapter = adapter
        self.console = Port(core, "console")

    @property
    def port(self) -> int:
        """backline's SIP port."""
        return self.adapter.sip_port

    @property
    def target(self) -> str:
        """``127.0.0.1:PORT`` for SIPp."""
        return f"127.0.0.1:{self.port}"

    async def type(self, member: str, text: str) -> str:
        """``member`` types ``text`` in chat; the reply."""
        reply = await self.console.command(member, text)
        return reply.text

    async def settled(self) -> None:
        """Wait until the adapter applied every commit so far."""
        await self.adapter.calls.settled()

    def call(self, iid: str) -> VoiceCall:
        """The engine's view of a call."""
        found = self.adapter.port.voice().call(iid)
        assert found is not None, iid
        return found

    def events(self, kind: str) -> list[dict[str, object]]:
        """Stored events of one kind, oldest first."""
        return [{"actor": e.actor, **e.data} for e in self.core.store.events(kind=kind)]


SHORT_TIMERS = Timers(t1=0.1, t2=0.4, t4=0.5)


@asynccontextmanager
async def phone_system(
    directory: Path,
    *,
    policy_edits: tuple[tuple[str, str], ...] = (),
    timers: Timers = SHORT_TIMERS,
    **changes: object,
) -> AsyncIterator[PhoneSystem]:
    """A started system; stopped (and its store closed) afterwards.

    ``timers``: short by default, so tests of timeouts end soon. A test whose peers
    retransmit (SIPp with loss) passes longer ones: a transaction must outlive the peer's
    retransmissions, which run on SIPp's T1 of 500 ms.
    """
    rules = sip_rules(directory, policy_edits)
    core = Core.open(rules, directory / "backline.db", SystemClock())
    changes.setdefault("voicemail_dir", str(directory / "voicemail"))
    settings = config(**changes)
    adapter = SipAdapter(Port(core, "sip"), settings, timers=timers)
    core.delivery.attach(adapter)
    await adapter.start()
    try:
        yield PhoneSystem(core, adapter)
    finally:
        await adapter.stop()
        core.delivery.detach(adapter)
        core.store.close()


def commands(system: PhoneSystem, member: str) -> list[str]:
    """What the member's phone did, as the commands stored (refused ones are not)."""
    return [
        str(e["text"])
        for e in system.events("command")
        if e["actor"] == member and e["platform"] == "sip"
    ]


def owner(system: PhoneSystem, iid: str) -> str | None:
    """The call's owner (None before it exists)."""
    found = system.adapter.port.voice().call(iid)
    return found.owner if found else None


def state(system: PhoneSystem, iid: str) -> str | None:
    """The call's state (None before it exists)."""
    found = system.adapter.port.voice().call(iid)
    return found.state if found else None
