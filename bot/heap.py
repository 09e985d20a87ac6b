"""The garbage collector at contact-centre scale: short pauses while the heap grows.

A full collection stops the event loop for as long as it takes to walk every tracked
object, about a microsecond each on a large heap; 50,000 live interactions are some
200,000 of them (``bot.interaction.machines`` keeps that small). So:

- after the start-up restore, the heap is collected once and frozen (``gc.freeze``): what
  start-up built is never walked again; a reload freezes what it built (no walk at all);
- a full collection that took longer than ``BUDGET`` freezes its survivors, so the next one
  walks only what came since: a growing heap never makes a long pause;
- young collections run every ``THRESHOLDS[0]`` allocations (not 700), so busy periods
  spend less time in them while each stays short (measured with ``bench/interactions.py``);
- a full collection is considered after every middle one, and a middle one after every
  second young one (CPython's default: every tenth of every tenth): a heap growing by tens
  of thousands of live interactions is walked in slices of some 15,000 objects, each
  freezing its survivors once it runs over budget, not in one walk of everything that came
  since start-up (over 100 ms at 50,000 live). CPython still runs a full collection only
  when what came since the last one is a quarter of what that one kept.

Frozen objects are still freed when their last reference goes; only reference cycles among
them stay. Those are rare in the long-lived heap (live interactions have none; a replaced
machine is ``retire``d) and are the price of never walking it.
"""

from __future__ import annotations

import gc
import time

THRESHOLDS = (5_000, 1, 0)
BUDGET = 0.010  # seconds: a full collection that took longer freezes its survivors


class Heap:
    """The process's collector policy; install once, then ``settle`` and ``refreeze``."""

    def __init__(
        self, thresholds: tuple[int, int, int] = THRESHOLDS, budget: float = BUDGET
    ) -> None:
        self.thresholds = thresholds
        self.budget = budget
        self.installed = False
        self.settled = False
        self.freezes = 0  # full collections that ran over budget and froze their survivors
        self._started = 0.0
        self._previous = gc.get_threshold()

    def install(self) -> None:
        """Set the thresholds and watch full collections (once per process)."""
        if self.installed:
            return
        self._previous = gc.get_threshold()
        gc.set_threshold(*self.thresholds)
        gc.callbacks.append(self._on_gc)
        self.installed = True

    def uninstall(self) -> None:
        """Stop watching and put the thresholds back (what is frozen stays frozen)."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self.installed:
            gc.set_threshold(*self._previous)
        self.installed = self.settled = False

    def settle(self) -> None:
        """After the start-up restore: collect once, then freeze everything alive.

        Once per process: a second ``Core`` in the same process (tests) only installs.
        """
        self.install()
        if self.settled:
            return
        gc.collect()
        gc.freeze()
        # CPython's next full collection waits until what came since is a quarter of what
        # the last one kept: collected again (walking nothing now), that is nothing, so the
        # growing heap is walked in slices from the start, not first in one long walk.
        gc.collect()
        self.settled = True

    def refreeze(self) -> None:
        """After a reload: freeze what it built, without walking the heap."""
        if self.settled:
            gc.freeze()

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif time.perf_counter() - self._started > self.budget:
            gc.freeze()  # cheap: links the generation lists onto the permanent one
            self.freezes += 1


HEAP = Heap()


def settle() -> None:
    """``Core`` after its start-up restore: see ``Heap.settle``."""
    HEAP.settle()


def refreeze() -> None:
    """``Core`` after a rules reload: see ``Heap.refreeze``."""
    HEAP.refreeze()
