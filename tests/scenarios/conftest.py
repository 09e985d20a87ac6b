"""Every scenario also checks what its customers read (INT-2): see ``tests.scenarios.wording``.

Each ``Console`` a scenario opens is remembered; when the scenario ends, every line any
customer received is checked. A scenario whose customer saw a handle, a target id or
system wording fails there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.wording import bad_wording
from tests.support import console as console_module


@pytest.fixture(autouse=True)
def customers_read_only_neutral_sentences(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """INT-2: no customer line of this scenario shows internal wording."""
    opened: list[console_module.Console] = []
    original = console_module.Console.__init__

    def remember(self: console_module.Console, rules: Path, database: Path) -> None:
        original(self, rules, database)
        opened.append(self)

    monkeypatch.setattr(console_module.Console, "__init__", remember)
    yield
    found = [line for driver in opened for line in bad_wording(driver.transcript)]
    assert found == [], f"customers read internal wording: {found}"
