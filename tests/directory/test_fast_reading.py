"""RUL-4, DIR-6: the fast reader builds exactly what the line-exact reader builds.

A directory file of 100,000 members is read from libyaml's events without lines; whatever
it cannot take on, or any problem in the file, is read again the line-exact way so every
error still names its line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- one JSON object a line ------------------------------------------------------------------

JSON_LINES = [
    '  - {"id": "ann", "name": "Ann \u00c5berg", "handles": {"slack": "U1"}}\n',
    '  - {"id": "bo", "roles": ["agent", "supervisor"], "voice": 1001}\n',
    '  - {"id":"cy","name":"Cy: #1"}\n',
    '  - {"id": "dee", "name": "Dee \\u00e9"}\n',  # an escape: read by YAML
    '  - {"id": "ed", "name": "x", "name": "y"}\n',  # a duplicate key: the line-exact reader
    '  - {"id": "fo", "voice": 1.5}\n',  # a float: read by YAML
    '  - {"id": "gu", "voice": 1e3}\n',  # YAML 1.1 reads 1e3 as a string
    '  - {"id": "hal", "name": "a\u2028b"}\n',  # a line separator: folded by YAML
    '  - {"id": "io", "ok": true, "no": null, "n": -0}\n',
]


@pytest.mark.parametrize("line", JSON_LINES)
def test_a_json_line_reads_as_yaml_reads_it(line: str) -> None:
    text = f"members:\n{line}  - {{id: plain}}\n"
    try:
        expected = parse_source(text, "f").data
    except RulesInvalid:
        with pytest.raises(NeedsLines):
            read_document(text)
        return
    assert read_document(text) == expected


RUNS = [
    'a:\n  - {"id": "x"}\n  - {"id": "y"}\nb:\n  - {"id": "z"}\n',
    'a:\n  - {"id": "x"}\n  - id: plain\n  - {"id": "y"}\n',
    'a:\n  - {"id": "x"}\n  - - {"id": "n"}\n    - {"id": "m"}\n  - {"id": "y"}\n',
    'a:\n- {"id": "x"}\n- {"id": "y"}\nb: [1]\n',
    'a:\n  - {"id": "x"}\n\n  - {"id": "y"}\n  # note\n  - {"id": "z"}\n',
    'note: |\n  - {"id": "x"}\n  - {"id": "y"}\nb:\n  - {"id": "z"}\n',
    'a:\n  - {"id": "x"}\n  - {"id": 1.5}\n  - {"id": "y"}\n  - {"id": "w"}\n',
    'a:\n  - b:\n    - {"id": "x"}\n    - {"id": "y"}\n  - {"id": "z"}\n',
]


@pytest.mark.parametrize("text", RUNS)
def test_runs_of_json_lines_read_as_yaml_reads_them(text: str) -> None:
    """Consecutive JSON lines at one indentation are read at once, as their sequence's."""
    assert read_document(text) == parse_source(text, "f").data


def test_a_json_line_inside_a_block_scalar_stays_text() -> None:
    """A stand-in that is not read as a value makes the reader read the file as written."""
    text = 'notes: |\n  - {"id": "ann"}\nmembers:\n  - {"id": "bo"}\n'
    assert read_document(text) == parse_source(text, "f").data


def test_a_file_that_already_holds_the_stand_in_tag_is_read_as_written() -> None:
    text = 'members:\n  - {"id": "ann"}\n  - !backline.json-line 0\n'
    with pytest.raises(NeedsLines):  # an unknown tag, as for any other
        read_document(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=6),
            st.one_of(
                st.text(max_size=12),
                st.integers(),
                st.booleans(),
                st.none(),
                st.floats(allow_nan=False),
                st.lists(st.text(max_size=5), max_size=3),
                st.dictionaries(st.text(max_size=4), st.text(max_size=6), max_size=2),
            ),
            max_size=4,
        ),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_json_lines_read_exactly_as_the_yaml_safe_loader_reads_them(
    entries: list[dict[str, object]], ascii_only: bool
) -> None:
    """Whatever a JSON writer puts on a line, the fast reader builds what PyYAML builds.

    Or it leaves the file to the line-exact reader (libyaml refuses some escapes that
    PyYAML's own reader takes): never a different value.
    """
    text = "members:\n" + "".join(
        f"  - {json.dumps(e, ensure_ascii=ascii_only)}\n" for e in entries
    )
    try:
        expected = parse_source(text, "f").data
    except RulesInvalid:
        expected = NeedsLines
    try:
        got = read_document(text)
    except NeedsLines:
        assert "\\" in text or expected is NeedsLines, text
        return
    assert got == expected
