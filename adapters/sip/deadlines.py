"""The stack's timers (RFC 3261 timers A to L), without a loop timer for each.

Each call starts about ten timers, and most are stopped long before they are due (the
answer came): a loop timer each would fill the loop's heap with thousands of entries (a
transaction lingers 64·T1 after its answer) that every new timer must be sorted among.
Their delays are a handful of constants (T1 and its doublings, T4, 64·T1, 32 s), so
``Deadlines`` keeps one queue per delay, due times in order by construction, and a single
loop timer for the earliest: starting or stopping a timer is a dictionary operation.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable

Deadline = tuple[float, int]
"""A started timer: its delay and its number (what ``stop`` takes)."""
Queue = OrderedDict[int, tuple[float, Callable[[], None]]]
"""The timers of one delay by number, oldest (so due first) first: ``(due, callback)``."""


class Deadlines:
    """Callbacks due after a delay, one loop timer for all of them."""

    def __init__(self) -> None:
        self._queues: dict[float, Queue] = {}
        self._numbers = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = math.inf
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the first timer

    def __len__(self) -> int:
        """Timers started and neither due nor stopped yet."""
        return sum(len(queue) for queue in self._queues.values())

    def start(self, delay: float, callback: Callable[[], None]) -> Deadline:
        """Call ``callback`` in ``delay`` seconds, unless stopped first."""
        loop = self._loop or self._bind()
        due = loop.time() + delay
        number = next(self._numbers)
        queue = self._queues.get(delay)
        if queue is None:
            queue = self._queues[delay] = OrderedDict()
        queue[number] = (due, callback)
        if due < self._armed_for:
            self._arm(loop, due)
        return delay, number

    def stop(self, deadline: Deadline) -> None:
        """The timer is not wanted any more (one already due or stopped is ignored)."""
        delay, number = deadline
        queue = self._queues.get(delay)
        if queue is not None:
            queue.pop(number, None)

    def close(self) -> None:
        """Stop every timer (the stack is stopping)."""
        self._queues.clear()
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._armed_for, self._loop = None, math.inf, None

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, looked up once (each look-up is a system call on Linux)."""
        self._loop = asyncio.get_running_loop()
        return self._loop

    def _arm(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(due, self._fire)
        self._armed_for = due

    def _fire(self) -> None:
        """Run what is due, earliest first, then arm for the earliest timer left.

        One at a time: a callback may stop a timer that is due too (a transaction's timeout
        stops its retransmission), and then that one does not run.
        """
        self._timer, self._armed_for = None, math.inf
        loop = self._loop or self._bind()
        now = loop.time()
        while (head := self._earliest()) is not None and head[0] <= now:
            _, queue, number = head
            _, callback = queue.pop(number)
            try:
                callback()
            except Exception as exc:  # as the loop does for its own timers: log, go on
                loop.call_exception_handler({"message": "a SIP timer failed", "exception": exc})
        if head is not None and head[0] < self._armed_for:
            self._arm(loop, head[0])

    def _earliest(self) -> tuple[float, Queue, int] | None:
        """The timer due first: its due time, its queue and its number."""
        found = None
        for queue in self._queues.values():
            if queue:
                number = next(iter(queue))
                due = queue[number][0]
                if found is None or due < found[0]:
                    found = (due, queue, number)
        return found
