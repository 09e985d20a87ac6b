"""The media clock: a thread that runs the mixer's tick on every 20 ms deadline, on time.

Phones hear a leg's frames on the 20 ms grid their RTP timestamps set only if each tick
sends right at its deadline. In the event loop a tick waits behind whatever callback is
running, its timer has millisecond granularity, and on a busy host it waits behind every
other process that wants the CPU: the frames' p99 arrival then strays by several ms. So
the clock is a thread of its own, and

- deadline n is ``start + n * period`` on the monotonic clock, so it never drifts however
  long a tick takes; a late tick is caught up at once, and after more than ``max_behind``
  seconds behind the clock starts again from now (counted in ``skipped``);
- it sleeps (``time.sleep``: a nanosecond timer, not the loop's millisecond one) until
  ``SPIN`` before the deadline and spins the rest, so a tick starts within microseconds of
  it;
- where the OS allows (Linux with ``CAP_SYS_NICE`` or an ``RLIMIT_RTPRIO``), the thread
  asks for real-time priority (``SCHED_FIFO``, ``PRIORITY``), else a raised one (nice
  ``NICE``), else keeps what it has, quietly (``priority`` says which it got). A
  real-time thread preempts ordinary processes the moment its deadline comes, and costs
  them little: it sleeps most of each period, and the kernel keeps a share of every CPU
  for them whatever it does (RT throttling). ``realtime=False`` keeps the ordinary
  priority, for a host where the media must not outrank other work.

Each tick is told the next deadline, so work that can wait (reading a burst of packets)
stops short of it. ``lateness`` says how late the last ``KEPT`` ticks started.

The thread still shares the interpreter: when another thread of the process holds the GIL
at a deadline, the tick waits until it is released — ``sys.getswitchinterval()`` (5 ms) at
most while that thread runs, but longer when the OS has preempted it, as the GIL lends it
no priority. An event loop in the same process kept busy in Python (2 ms of every 10) on a
loaded host made ticks start 17-70 ms late at p99; a deployment with heavy signalling load
and many legs is best served by a media server in a process of its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)
SPIN: Final = 0.0002
"""Seconds before a deadline the clock stops sleeping and spins."""
PRIORITY: Final = 10
"""``SCHED_FIFO`` priority asked for (1-99): above ordinary processes, below the kernel's."""
NICE: Final = -10
"""The nice value asked for when real-time priority is refused."""
KEPT: Final = 3000
"""Ticks whose lateness is kept (a minute of 20 ms frames)."""


class FrameClock:
    """Call ``tick(next_due)`` every ``period`` seconds from a thread of its own.

    ``next_due`` is the next tick's deadline (``time.monotonic()`` seconds): work that can
    wait stops short of it (see the module docstring).
    """

    def __init__(
        self,
        tick: Callable[[float], None],
        *,
        period: float = 0.02,
        max_behind: float = 0.2,
        realtime: bool = True,
        name: str = "media-clock",
    ) -> None:
        self.period = period
        self.max_behind = max_behind
        self.realtime = realtime
        self.ticks = 0
        """Ticks run since ``start``."""
        self.skipped = 0
        """Times the clock fell more than ``max_behind`` behind and started again."""
        self.priority = "not started"
        """What the thread runs at: ``SCHED_FIFO 10``, ``nice -10`` or ``normal``."""
        self._tick = tick
        self._name = name
        self._late = np.zeros(KEPT)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Started and not stopped."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (again after ``stop``); the first tick is due at once."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the tick under way (at most one period and one tick from now)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()

    def lateness(self, last: int = KEPT) -> npt.NDArray[np.float64]:
        """How late each of the ``last`` ticks started (seconds, oldest first; ``KEPT`` at most)."""
        kept = min(last, self.ticks, KEPT)
        return np.roll(self._late, -(self.ticks % KEPT))[KEPT - kept :]

    def _run(self) -> None:
        self.priority = raise_priority() if self.realtime else "normal"
        start, frames = time.monotonic(), 0
        while not self._stopping.is_set():
            due = start + frames * self.period
            now = wait_until(due)
            self._late[self.ticks % KEPT] = now - due
            try:
                self._tick(due + self.period)
            except Exception:
                log.exception("media tick failed; the clock carries on")
            self.ticks += 1
            frames += 1
            if time.monotonic() - (start + frames * self.period) > self.max_behind:
                self.skipped += 1
                start, frames = time.monotonic(), 0


def wait_until(due: float) -> float:
    """Sleep until ``SPIN`` before ``due`` (monotonic seconds), spin to it; return now."""
    now = time.monotonic()
    if due - now > SPIN:
        time.sleep(due - now - SPIN)
        now = time.monotonic()
    while now < due:
        now = time.monotonic()
    return now


def raise_priority() -> str:
    """Ask for real-time, else raised priority for the calling thread; say what it got."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(PRIORITY))
        return f"SCHED_FIFO {PRIORITY}"
    except (AttributeError, OSError):
        pass  # not Linux, or not permitted: try a lower nice value
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        return f"nice {NICE}"
    except (AttributeError, OSError):
        return "normal"
