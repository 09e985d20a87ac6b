"""Shared fixtures: a console on the shipped rules, on a fake clock, in a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.console import RULES, Console

# The session Prosody (``prosody`` fixture) for live tests and adapter contract drivers.
pytest_plugins = ("tests.support.prosody_fixture",)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo directory and policy, nobody ready yet."""
    driver = Console(RULES, tmp_path / "backline.db")
    yield driver
    driver.close()
