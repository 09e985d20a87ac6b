"""A bounded memory of recent keys (response URLs used, retried deliveries answered)."""

from __future__ import annotations

from collections import OrderedDict


class Recent:
    """How often each recent key was counted; past ``size`` keys the oldest are forgotten."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._counts: OrderedDict[str, int] = OrderedDict()

    def seen(self, key: str) -> int:
        """How often ``key`` was counted (0 once forgotten)."""
        return self._counts.get(key, 0)

    def count(self, key: str) -> None:
        """Count ``key`` once more."""
        self._counts[key] = self.seen(key) + 1
        self._counts.move_to_end(key)
        while len(self._counts) > self.size:
            self._counts.popitem(last=False)

    def __len__(self) -> int:
        return len(self._counts)
