"""The ``driver`` fixture: every adapter's driver, one behaviour suite (ADP-6).

Each platform has ``tests/adapters/contract/drivers/<platform>.py`` exposing
``async def open_driver(request, tmp_path) -> Driver``, which returns a started driver on a
fresh database. A platform listed here without a driver module fails: it is not skipped.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.contract.driver import Driver

PLATFORMS = ["console", "slack", "xmpp", "matrix"]
PACKAGE = "tests.adapters.contract.drivers"


def load_driver_module(platform: str) -> object:
    """``drivers/<platform>.py``; a missing one fails the test that needs it."""
    name = f"{PACKAGE}.{platform}"
    module = None
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the driver exists but something it imports does not
    if module is None:
        pytest.fail(
            f"no contract driver for {platform}: write {name.replace('.', '/')}.py "
            "with `async def open_driver(request, tmp_path) -> Driver`",
            pytrace=False,
        )
    if not hasattr(module, "open_driver"):
        pytest.fail(f"{name} has no open_driver(request, tmp_path)", pytrace=False)
    return module


@pytest.fixture(params=PLATFORMS)
async def driver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Driver]:
    """A started driver for one platform; stopped after the test."""
    module = load_driver_module(request.param)
    opened: Driver = await module.open_driver(request, tmp_path)  # type: ignore[attr-defined]
    assert opened.platform == request.param, f"{request.param} driver says {opened.platform}"
    try:
        yield opened
    finally:
        await opened.stop()
