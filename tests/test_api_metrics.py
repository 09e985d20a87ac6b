"""GRP-3: `/metrics` carries what waits (per target and kind), how long work waited, the
offers members missed and the live interactions by kind and state."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.core import Core
from bot.events import Command
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
