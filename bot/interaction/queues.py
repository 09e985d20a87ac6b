"""What waits, and for whom: the data behind `queue`, `team`, `groups` and `/metrics` (GRP-3).

Waiting customer work is the live interactions with an offer out (``Engine.with_offers``,
an index, never a scan of every interaction): ringing someone or waiting for someone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.interaction.model import Interaction

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

QUEUED = frozenset({"route", "transfer"})  # a customer waiting for a member


@dataclass(frozen=True)
class Waiting:
    """One customer interaction waiting for a member of ``target``."""

    ix: Interaction
    target: str  # "group:support", "@bob", "queue:overflow"
    age: float  # seconds since the customer arrived
    ringing: tuple[str, ...]  # members it rings now; () while nobody can be offered it


class Queues:
    """Reads the engine's offers as queues; changes nothing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def waiting(self, target: str | None = None) -> list[Waiting]:
        """Customer work waiting, oldest first; only that aimed at ``target`` when given."""
        now = self.engine.core.clock.now()
        out = []
        for ix in self.engine.with_offers():
            offer = ix.offer
            if offer is None or offer.purpose not in QUEUED or not ix.customer:
                continue
            if target is None or offer.target == target:
                out.append(Waiting(ix, offer.target, now - ix.created, offer.to))
        return out

    def by_target(self) -> dict[str, list[Waiting]]:
        """Waiting work per target, each oldest first."""
        out: dict[str, list[Waiting]] = {}
        for item in self.waiting():
            out.setdefault(item.target, []).append(item)
        return out

    def counts(self) -> Counter[tuple[str, str]]:
        """How many wait, per (target, kind): ``backline_waiting{group,kind}``."""
        return Counter((item.target, item.ix.kind) for item in self.waiting())

    def states(self) -> Counter[tuple[str, str]]:
        """Live interactions per (kind, state)."""
        return Counter((ix.kind, ix.state) for ix in self.engine.live.values())
