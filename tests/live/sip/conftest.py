"""Live SIP tests: SIPp is required (skipped without it unless CI is set)."""

from __future__ import annotations

import pytest

from tests.support.sipp import require_sipp


@pytest.fixture(autouse=True)
def sipp_installed() -> None:
    """Every test here needs the sipp binary."""
    require_sipp()
