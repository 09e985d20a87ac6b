"""GRP-3: `/metrics` carries what waits (per target and kind), how long work waited, the
offers members missed and the live interactions by kind and state."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bot.clock import FakeClock
from bot.core import Core
from bot.events import Command
from bot.metrics import Metrics
from bot.port import Address, Port


async def test_metrics_show_waiting_work_waits_missed_offers_and_states_grp_3(
    served: tuple[TestClient, Core],
) -> None:
    client, core = served
    clock = core.clock
    assert isinstance(clock, FakeClock)
    port = Port(core, "console")
    await port.customer_arrived(Address("console", "Eve"), "email", "group:support", "Invoice")
    await port.customer_arrived(Address("console", "Ann"), "chat", "group:billing", "hi")
    await core.handle(Command("console", "dana", "ready"))  # rung with Ann's chat
    await clock.advance(21)  # dana lets it time out: a missed offer
    await core.handle(Command("console", "eli", "ready"))  # rung with Ann's chat
    await clock.advance(4)
    await core.handle(Command("console", "eli", "accept"))  # it waited 25s

    text = await (await client.get("/metrics")).text()
    lines = set(text.splitlines())
    assert 'backline_waiting{group="group:support",kind="email"} 1.0' in lines
    assert 'backline_offers_missed_total{target="group:billing"} 1.0' in lines
    assert 'backline_wait_seconds_count{kind="chat"} 1.0' in lines
    assert 'backline_wait_seconds_bucket{kind="chat",le="30.0"} 1.0' in lines
    assert 'backline_wait_seconds_bucket{kind="chat",le="20.0"} 0.0' in lines
    assert 'backline_interactions{kind="email",state="queued"} 1.0' in lines
    assert 'backline_interactions{kind="chat",state="active"} 1.0' in lines


def test_command_latency_reads_as_prometheus_client_writes_a_histogram_ops_1() -> None:
    """OPS-1: the command-latency histogram (counted without locks) renders the very bucket,
    count and sum lines prometheus_client's own Histogram writes for the same observations."""
    observed = (0.0001, 0.0005, 0.0007, 0.003, 0.05, 0.7, 2.0)
    ours = Metrics()
    registry = CollectorRegistry()
    theirs = Histogram(
        "backline_command_seconds",
        "Time to handle and commit a command",
        registry=registry,
        buckets=ours.latency.bounds,
    )
    for seconds in observed:
        ours.latency.observe(seconds)
        theirs.observe(seconds)

    def lines(text: bytes) -> list[str]:
        return [
            line
            for line in text.decode().splitlines()
            if line.startswith("backline_command_seconds_") and "_created" not in line
        ]

    assert lines(ours.render()) == lines(generate_latest(registry))
    assert 'backline_command_seconds_bucket{le="0.0005"} 2.0' in lines(ours.render())
