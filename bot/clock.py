"""Time for the core: a real clock for running, a fake one for scripts and tests.

Everything that waits (offer timeouts, wait-for-agent, retention) schedules on a clock,
so a script's ``tick 30s`` or a test's ``advance`` fires timers in zero real time. A
cancelled timer lets go of its callback at once (asyncio's handles do the same), so the
closure and the interaction it holds are freed long before the timer would have been due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

TimerCallback = Callable[[], Awaitable[None] | None]


class Timer(Protocol):
    """A scheduled callback that can be cancelled."""

    def cancel(self) -> None:
        """Stop the callback from running; a no-op once it ran."""


class Clock(Protocol):
    """Wall time in seconds and scheduling of callbacks."""

    def now(self) -> float:
        """Return the current time as a Unix timestamp."""

    def call_at(self, when: float, callback: TimerCallback) -> Timer:
        """Run ``callback`` at ``when`` (a Unix timestamp)."""


class SystemClock:
    """The real clock, scheduling on the running asyncio loop."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[None]] = set()

    def now(self) -> float:
        """Return the current Unix time."""
        return time.time()

    def call_at(self, when: float, callback: TimerCallback) -> Timer:
        """Run ``callback`` at ``when``; coroutines are scheduled as tasks."""
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, when - self.now()), self._run, callback)

    def _run(self, callback: TimerCallback) -> None:
        result = callback()
        if result is not None:
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


@dataclass(order=True, slots=True)
class _Pending:
    when: float
    seq: int
    callback: TimerCallback | None = field(compare=False)  # None once cancelled

    def cancel(self) -> None:
        self.callback = None


class FakeClock:
    """A clock that moves only when told to; timers fire in order during ``advance``."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._queue: list[_Pending] = []
        self._seq = itertools.count()

    def now(self) -> float:
        """Return the fake current time."""
        return self._now

    def call_at(self, when: float, callback: TimerCallback) -> Timer:
        """Queue ``callback`` for ``when``; it runs during a later ``advance``."""
        pending = _Pending(when, next(self._seq), callback)
        heapq.heappush(self._queue, pending)
        return pending

    async def advance(self, seconds: float) -> None:
        """Move time forward, running every timer that falls due, in time order."""
        until = self._now + seconds
        while self._queue and self._queue[0].when <= until:
            pending = heapq.heappop(self._queue)
            callback = pending.callback
            if callback is None:
                continue
            self._now = max(self._now, pending.when)
            result = callback()
            if result is not None:
                await result
        self._now = until
