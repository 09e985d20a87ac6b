"""SIP tests: every SIPp a test started is stopped when it ends, passed or failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sipp import Sipp


@pytest.fixture(autouse=True)
def no_sipp_left() -> Iterator[None]:
    """Kill the test's SIPp processes by PID after it."""
    yield
    Sipp.stop_all()
