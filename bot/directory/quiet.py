"""Building a large directory without the collector walking it while it grows.

Reading 100,000 members makes about a million objects; with the collector on, each full
collection on the way walks all that were made so far (a second or more in all, for
objects that are garbage to none). They are built with the collector paused instead, and
the start-up's own collection then walks them once before freezing them (``bot.heap``).
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pausing = threading.Lock()
_pausers = [0, False]  # blocks in ``collector_paused`` (any thread), and gc.isenabled() before


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection inside the block.

    Blocks may nest and overlap across threads (a worker building the index while the
    start-up goes on): the collector runs again once the last of them is left, if it ran
    before the first.
    """
    with _pausing:
        if _pausers[0] == 0:
            _pausers[1] = gc.isenabled()
            gc.disable()
        _pausers[0] += 1
    try:
        yield
    finally:
        with _pausing:
            _pausers[0] -= 1
            if _pausers[0] == 0 and _pausers[1]:
                gc.enable()


SWITCH_INTERVAL = 0.0005
_switching = threading.Lock()
_holders = [0, 0.005]  # threads in ``switching_often``, and the interval before the first


@contextmanager
def switching_often() -> Iterator[None]:
    """While a worker thread runs Python, hand the GIL over every half millisecond.

    The event loop then waits a fraction of a millisecond for it at each SQLite call
    instead of up to 5 ms. Workers may overlap: the last one out puts the interval back.
    """
    with _switching:
        if _holders[0] == 0:
            _holders[1] = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        _holders[0] += 1
    try:
        yield
    finally:
        with _switching:
            _holders[0] -= 1
            if _holders[0] == 0:
                sys.setswitchinterval(_holders[1])
