"""Building a large directory without the collector walking it while it grows.

Reading 100,000 members makes about a million objects; with the collector on, each full
collection on the way walks all that were made so far (a second or more in all, for
objects that are garbage to none). They are built with the collector paused instead, and
the start-up's own collection then walks them once before freezing them (``bot.heap``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection inside the block (nested blocks leave it paused)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
