"""Fixtures: a Slack Web API stub and backline's server with the Slack adapter, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.driver import SlackDriver
from tests.adapters.slack.stub import SlackStub


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    server = SlackStub()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def slack(tmp_path: Path, stub: SlackStub) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(tmp_path / "backline.db", stub)
    await driver.start()
    yield driver
    await driver.stop()
