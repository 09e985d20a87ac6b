"""Shared fixtures: a console on the shipped rules, on a fake clock, in a temp data dir."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from bot.core import Core
from bot.heap import HEAP
from bot.http import build_http_app
from tests.support.console import RULES, Console

# The session Prosody (``prosody`` fixture) for live tests and adapter contract drivers.
pytest_plugins = ("tests.support.prosody_fixture",)


def pytest_configure(config: pytest.Config) -> None:
    """The process-wide collector policy never freezes on a slow collection in the suite.

    Frozen objects are invisible to ``gc.get_referrers``, which Hypothesis relies on when it
    registers its random generator right after a ``gc.collect()``: a freeze triggered by
    that very collection (slow in a process as large as the suite) made it warn, and so fail
    a test. The policy itself is tested with instances of its own (``tests/test_heap.py``).
    """
    HEAP.budget = math.inf


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo directory and policy, nobody ready yet."""
    driver = Console(RULES, tmp_path / "backline.db")
    yield driver
    driver.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Core]]:
    """backline's HTTP app on a fake clock, with a test client."""
    core = Core.open(RULES, tmp_path / "backline.db", FakeClock())
    async with TestClient(TestServer(build_http_app(core))) as client:
        yield client, core
    core.store.close()
