"""Console settings (``[console]``, ``BACKLINE_CONSOLE_*``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleConfig:
    """The console adapter (the embedded default): a REPL when run from a terminal."""

    enabled: bool = True
    member: str = "alice"  # who you type as at first

    def problems(self) -> list[str]:
        """Nothing to check across fields."""
        return []
