"""Targets a benchmark checks: each is printed with its verdict, and any miss fails the run.

A benchmark builds one ``Target`` per figure it promises (its limit may come from the
command line, so a test can pass an impossible or a generous one) and returns
``verdict(targets)`` as its exit code: 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TIMES = "\u00d7"


@dataclass(frozen=True)
class Target:
    """``label`` must measure below ``limit`` (both in ``unit``)."""

    label: str
    value: float
    limit: float
    unit: str
    digits: int = 2

    @property
    def met(self) -> bool:
        """The figure is below its limit (a limit of 0 can never be met)."""
        return self.value < self.limit

    def line(self) -> str:
        """``first page p99 1.23 ms (target < 20 ms): PASS``."""
        sep = "" if self.unit == TIMES else " "
        figure = f"{self.value:,.{self.digits}f}{sep}{self.unit}"
        return (
            f"{self.label} {figure} (target < {self.limit:g}{sep}{self.unit}):"
            f" {'PASS' if self.met else 'FAIL'}"
        )


def verdict(targets: Sequence[Target]) -> int:
    """Print every target and the overall verdict; the exit code (0 all met, 1 any missed)."""
    for target in targets:
        print(target.line())
    missed = [t.label for t in targets if not t.met]
    if missed:
        print(f"verdict: FAIL ({len(missed)} of {len(targets)} missed: {', '.join(missed)})")
        return 1
    print(f"verdict: PASS ({len(targets)} of {len(targets)} targets met)")
    return 0
