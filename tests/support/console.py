"""A console driver for scenario tests: the product's console adapter on a fake clock."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

from adapters.console.adapter import ConsoleAdapter
from adapters.console.convert import parse_script
from bot.clock import FakeClock
from bot.core import Core
from bot.outbound import Say
from bot.port import Batch, Port

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
_DELIVERY = re.compile(r"^\[(?P<who>[^\]]+)\] ?(?P<text>.*)$")


class Console:
    """Runs console lines and lets a test read what each party received."""

    def __init__(self, rules: Path, database: Path) -> None:
        self.clock = FakeClock()
        self.core = Core.open(rules, database, self.clock)
        self.out = io.StringIO()
        self.adapter = ConsoleAdapter(Port(self.core, "console"), self.out)
        self.core.delivery.attach(self.adapter)
        self._mark = 0

    async def run(self, script: str) -> list[str]:
        """Run script lines; return the transcript lines they produced."""
        start = len(self.out.getvalue())
        await self.adapter.run_script(parse_script(script))
        return self.out.getvalue()[start:].splitlines()

    @property
    def transcript(self) -> list[str]:
        """Every transcript line so far."""
        return self.out.getvalue().splitlines()

    def received(self, who: str, *, since_mark: bool = True) -> list[str]:
        """Lines delivered to ``who`` (``@bob``, ``customer:Ann``), oldest first."""
        lines = self.transcript[self._mark :] if since_mark else self.transcript
        return [m["text"] for m in map(_DELIVERY.match, lines) if m and m["who"] == who]

    def last(self, who: str) -> str:
        """The most recent message to ``who``: its consecutive transcript lines, joined."""
        texts: list[str] = []
        for line in reversed(self.transcript):
            m = _DELIVERY.match(line)
            if m and m["who"] == who:
                texts.append(m["text"])
            elif texts:
                break
        assert texts, f"{who} received nothing"
        return "\n".join(reversed(texts))

    def mark(self) -> None:
        """Start counting ``received`` from here."""
        self._mark = len(self.transcript)

    def close(self) -> None:
        """Close the store."""
        self.core.store.close()


class Recording:
    """An adapter named like a platform that keeps every batch it is sent.

    With ``reaches_everyone`` it gets every delivery, as the console does; otherwise
    delivery routes it the members with a handle on platform ``name``.
    """

    def __init__(self, name: str, *, reaches_everyone: bool = False) -> None:
        self.name = name
        self.reaches_everyone = reaches_everyone
        self.batches: list[Batch] = []

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def send(self, batch: Batch) -> None:
        """Keep the batch."""
        self.batches.append(batch)

    @property
    def sent(self) -> list[Say]:
        """Every message sent so far, in order."""
        return [message.say for batch in self.batches for message in batch.messages]

    @property
    def addresses(self) -> list[str]:
        """Where each message went on the platform, in order."""
        return [message.address for batch in self.batches for message in batch.messages]

    def clear(self) -> None:
        """Forget what was sent."""
        self.batches.clear()


def copy_rules(tmp_path: Path) -> Path:
    """A private copy of the shipped rules folder, for tests that edit rules."""
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target
