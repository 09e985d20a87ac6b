"""Running a core for an adapter's own command (``backline demo``): open, use, close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.clock import FakeClock, SystemClock
from bot.core import Core
from bot.logs import configure
from bot.port.port import Port
from bot.state import snapshot

DEFAULT_RULES = Path("rules")
__all__ = ["DEFAULT_RULES", "Session", "configure", "rules_dir", "session"]


def rules_dir(given: Path | None) -> Path:
    """The rules folder: as given, ./rules, or the shipped one."""
    if given is not None:
        return given
    if DEFAULT_RULES.is_dir():
        return DEFAULT_RULES
    return Path(__file__).resolve().parents[2] / "rules"


@dataclass(frozen=True)
class Session:
    """An open core, seen through ports."""

    core: Core

    def port(self, platform: str) -> Port:
        """A port for ``platform``."""
        return Port(self.core, platform)

    def attach(self, adapter: Any) -> None:
        """Let ``adapter`` receive deliveries."""
        self.core.delivery.attach(adapter)

    def snapshot(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        return snapshot(self.core.store)


@asynccontextmanager
async def session(rules: Path, database: Path, *, script: bool) -> AsyncIterator[Session]:
    """A core on ``rules`` and ``database``; a script runs on a fake clock (``tick``)."""
    clock = FakeClock() if script else SystemClock()
    core = Core.open(rules, database, clock)
    try:
        yield Session(core)
    finally:
        core.store.close()
