"""Fixtures: a Slack Web API stub and backline's server with the Slack adapter, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.core import Core
from tests.adapters.slack.driver import SlackDriver
from tests.adapters.slack.stub import SlackStub
from tests.support.console import RULES


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    server = SlackStub()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def core(tmp_path: Path) -> Core:
    return Core.open(RULES, tmp_path / "backline.db", FakeClock())


@pytest.fixture
async def slack(core: Core, stub: SlackStub) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(core, stub)
    await driver.start()
    yield driver
    await driver.stop()
    core.store.close()
