"""Prometheus metrics on a registry of our own (no global state)."""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bot.dispatch.turn import Turn

PAUSE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WAIT_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class Metrics:
    """Commands, HTTP requests, event-loop lag, GC pauses and available members per group."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "backline_commands",
            "Commands handled",
            ["command", "outcome"],
            registry=self.registry,
        )
        self._commands: dict[tuple[str, str], Counter] = {}
        self.latency = _Latency(
            "backline_command_seconds",
            "Time to handle and commit a command",
            (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
        )
        self.registry.register(self.latency)
        self.requests = Counter(
            "backline_requests",
            "HTTP requests answered, by route template (unmatched: no route) and status code",
            ["route", "code"],
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "backline_event_loop_lag_seconds",
            "How late a 10 ms event-loop probe woke up",
            registry=self.registry,
            buckets=PAUSE_BUCKETS,
        )
        self.gc_pause = Histogram(
            "backline_gc_pause_seconds",
            "Garbage-collection pauses, by generation",
            ["generation"],
            registry=self.registry,
            buckets=PAUSE_BUCKETS,
        )

        self.waited = Histogram(
            "backline_wait_seconds",
            "How long customer work waited before a member accepted it, by kind",
            ["kind"],
            registry=self.registry,
            buckets=WAIT_BUCKETS,
        )
        self.offers_missed = Counter(
            "backline_offers_missed",
            "Routed offers a member let time out, by target",
            ["target"],
            registry=self.registry,
        )

    def watch_availability(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Expose available members per group, read at scrape time (never stale)."""
        self.registry.register(_Availability(counts))

    def watch_work(
        self,
        waiting: Callable[[], Mapping[tuple[str, str], int]],
        states: Callable[[], Mapping[tuple[str, str], int]],
    ) -> None:
        """Expose waiting work per (target, kind) and live interactions per (kind, state)."""
        self.registry.register(_Work(waiting, states))

    def handled(self, turn: Turn, seconds: float) -> None:
        """One command handled in ``seconds``: its latency, and its count by name and outcome."""
        self.latency.observe(seconds)
        name = turn.spec.name if turn.spec else "unknown"
        key = (name, turn.outcome)
        child = self._commands.get(key)
        if child is None:  # a labelled child per name and outcome, looked up once
            child = self._commands[key] = self.commands.labels(*key)
        child.inc()

    def render(self) -> bytes:
        """The text exposition format for ``/metrics``."""
        return bytes(generate_latest(self.registry))


class _Latency(Collector):
    """A histogram observed once per command: one bisect, read out at scrape time.

    prometheus_client's ``Histogram`` takes a lock per value it updates; commands are
    handled on the event loop only, so these counts need none.
    """

    def __init__(self, name: str, documentation: str, bounds: tuple[float, ...]) -> None:
        self.name, self.documentation, self.bounds = name, documentation, bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket, the last one +Inf
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        """Count one command that took ``seconds``."""
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation)
        cumulative = list(itertools.accumulate(self.counts))
        edges = [*(repr(b) for b in self.bounds), "+Inf"]  # as prometheus_client writes them
        family.add_metric([], list(zip(edges, cumulative, strict=True)), sum_value=self.sum)
        yield family


class _Availability(Collector):
    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "backline_group_available", "Members ready now, per group", labels=["group"]
        )
        for ref, n in sorted(self.counts().items()):
            family.add_metric([ref], n)
        yield family


class _Work(Collector):
    def __init__(
        self,
        waiting: Callable[[], Mapping[tuple[str, str], int]],
        states: Callable[[], Mapping[tuple[str, str], int]],
    ) -> None:
        self.waiting = waiting
        self.states = states

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "backline_waiting",
            "Customer work waiting for a member, per target (group, queue, member) and kind",
            labels=["group", "kind"],
        )
        for (target, kind), n in sorted(self.waiting().items()):
            waiting.add_metric([target, kind], n)
        yield waiting
        live = GaugeMetricFamily(
            "backline_interactions",
            "Live interactions, per kind and state",
            labels=["kind", "state"],
        )
        for (kind, state), n in sorted(self.states().items()):
            live.add_metric([kind, state], n)
        yield live
