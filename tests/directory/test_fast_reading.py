"""RUL-4, DIR-6: the fast reader builds exactly what the line-exact reader builds.

A directory file of 100,000 members is read from libyaml's events without lines; whatever
it cannot take on, or any problem in the file, is read again the line-exact way so every
error still names its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.core import Core
from bot.directory.document import NeedsLines, read_document
from bot.directory.loader import parse_directory, read_directory
from bot.directory.stored import read_stored
from bot.rules.errors import RulesInvalid
from bot.rules.source import parse_source
from tests.support.console import RULES

SAME = [
    "",
    "a: 1\nb: [1, 2.5, true, on, null, ~, 2001-12-14, '1', !!str 3, 0x1F, 1_000]\n",
    "on: yes\nno: off\n",
    "- 1\n- {a: b}\n",
    "{1: a, 1.5: b, null: c}",
    "a: !!binary aGVsbG8=\nb: !!float 1\n",
    "k: 'quoted on'\nvoice: 1001\n",
]
LINES = ["a: 1\na: 2\n", "x: &a 1\ny: *a\n", "--- 1\n--- 2\n", "a: [\n", "? [a, b]\n: 1\n"]


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_rules_file_reads_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert read_document(text) == parse_source(text, "f").data


@pytest.mark.parametrize("text", SAME)
def test_scalars_keys_and_tags_read_the_same(text: str) -> None:
    assert read_document(text) == parse_source(text, "f").data


@pytest.mark.parametrize("text", LINES)
def test_what_the_fast_reader_does_not_take_on_is_left_to_the_line_exact_one(text: str) -> None:
    with pytest.raises(NeedsLines):
        read_document(text)


def test_a_broken_directory_is_reported_with_lines_as_before_dir_6() -> None:
    """DIR-6: the errors of a bad file are those of the line-exact reader, lines included."""
    text = "members:\n  - id: ann\n  - id: ann\ngroups:\n  - id: g\n    members: [zed]\n"
    with pytest.raises(RulesInvalid) as slow:
        parse_directory(parse_source(text, "d.yaml"))
    with pytest.raises(RulesInvalid) as fast:
        read_directory(text.encode(), "d.yaml")
    assert [str(e) for e in fast.value.errors] == [str(e) for e in slow.value.errors]
    assert "d.yaml:3: members[1].id: duplicate id 'ann'" in str(fast.value)


def test_the_stored_directory_reads_back_as_the_file(tmp_path: Path) -> None:
    """What start-up takes from the store instead of the file is the file's directory."""
    core = Core.open(RULES, tmp_path / "db", FakeClock())
    try:
        assert read_stored(core.store.conn) == core.directory.data
    finally:
        core.store.close()
