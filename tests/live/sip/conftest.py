"""Live SIP tests: SIPp is required (skipped without it unless CI is set), and stopped after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sipp import Sipp, require_sipp


@pytest.fixture(autouse=True)
def sipp_installed() -> Iterator[None]:
    """Every test here needs the sipp binary; its SIPp processes are stopped after it."""
    require_sipp()
    yield
    Sipp.stop_all()
