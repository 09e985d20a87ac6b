"""Pauses that stop every adapter: event-loop lag (a 10 ms probe) and GC pauses (``gc.callbacks``).

The GC callback runs inside the collector, possibly while a metric's lock is held, so it only
appends to a deque; the probe moves those pauses into the histogram on its next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import deque

from bot.metrics import Metrics

PROBE_EVERY = 0.01


class PauseWatch:
    """Feeds ``metrics.loop_lag`` and ``metrics.gc_pause``; keeps the worst of each seen."""

    def __init__(self, metrics: Metrics, interval: float = PROBE_EVERY) -> None:
        self.metrics = metrics
        self.interval = interval
        self.worst_lag = 0.0
        self.worst_gc = 0.0
        self.worst_by_generation: dict[int, float] = {}  # the longest collection of each
        self.ticks = 0  # probe wake-ups: how often the loop got round to the probe
        self._gc_started: float | None = None
        self._pauses: deque[tuple[int, float]] = deque()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Install the GC callback and start the probe on the running loop."""
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._probe())

    async def stop(self) -> None:
        """Remove the callback, stop the probe and record the pauses still pending."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.drain()

    def drain(self) -> None:
        """Move the GC pauses measured so far into the histogram."""
        while self._pauses:
            generation, seconds = self._pauses.popleft()
            self.metrics.gc_pause.labels(str(generation)).observe(seconds)
            self.worst_gc = max(self.worst_gc, seconds)
            worst = self.worst_by_generation.get(generation, 0.0)
            self.worst_by_generation[generation] = max(worst, seconds)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started is not None:
            self._pauses.append((info["generation"], time.perf_counter() - self._gc_started))
            self._gc_started = None

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - before - self.interval)
            self.ticks += 1
            self.metrics.loop_lag.observe(lag)
            self.worst_lag = max(self.worst_lag, lag)
            self.drain()
