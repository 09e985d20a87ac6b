"""OPS-2, DIR-1: a large first start answers before its search index is written.

The members are stored and the bot answers; a worker then writes the index file in one
transaction of its own. Meanwhile `find` answers from memory, tier for tier as the index
would; once the index is committed it is used, with the links made meanwhile. A start
killed half way through the build leaves a database whose next start finishes it.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.core import Core
from bot.directory import service
from bot.directory.index_file import attach, indexed_source
from bot.directory.loader import load_directory
from bot.directory.ordering import spaced
from bot.directory.plan import whole_index
from bot.directory.scan import MemoryScan
from bot.directory.search import Entry, SearchIndex, key_rows
from bot.directory.stored import stored_source
from bot.directory.table import entry_table, table_of
from bot.events import Command
from tests.directory.generated import generated_rules, write_directory

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 600
SMALL_ENOUGH = 100  # members from which the index is built by the worker, in these tests

NAMES = [
    ("José Álvarez", {"slack": "U0JOSE", "xmpp": "jose@chat.example.org"}),
    ("Zoë O'Brien", {"matrix": "@zoe_ob:example.org"}),
    ("Anne-Marie Dupont", {"xmpp": "anne_marie@chat.example.org"}),
    ("Łukasz Nowak", {"slack": "U0LUKASZ"}),
    ("Jo Li", {}),
    ("Li Jo", {"xmpp": "li.jo@chat.example.org"}),
    ("Ángel Ruiz", {"slack": "UANGEL"}),
    ("Mary Ann Lee", {"matrix": "@maryann:example.org"}),
    ("Ann Marie", {}),
    ("Müller Björn", {"xmpp": "bjoern@chat.example.org"}),
    ("Nul Handle", {"slack": "UNUL\x00LINKED", "xmpp": "ctl\x01jid@chat.example.org"}),
]
QUERIES = [
    "jose",
    "José",
    "JOSÉ ÁLVAREZ",
    "josé álvarez",
    "alv",
    "o'b",
    "obrien",
    "zoe",
    "zoë o",
    "anne-ma",
    "anne_marie",
    "anne marie",
    "marie",
    "dupont",
    "lukasz",
    "łuk",
    "u0jose",
    "jose@chat.example.org",
    "@zoe_ob:example.org",
    "zoe_ob",
    "li",
    "jo",
    "jo li",
    "li jo",
    "ann",
    "mary ann",
    "ary",
    "bjo",
    "björn",
    "ller",
    "ngel",
    "m000042",
    "0004",
    "member 00012",
    "Member 000123",
    "example",
    "qqqz",
    "",
    "  ",
    "a",
]


def entries() -> list[tuple[int, Entry]]:
    """The varied names above plus plain generated ones, spaced as a whole build does."""
    made = [
        Entry(f"@p{n}", "member", name, (f"p{n}", *handles.values()))
        for n, (name, handles) in enumerate(NAMES)
    ]
    made += [
        Entry(f"@m{n:06d}", "member", f"Member {n:06d}", (f"m{n:06d}", f"U{n:09d}"))
        for n in range(300)
    ]
    made.append(Entry("group:support", "group", "Support", ("support", "group:support")))
    return spaced(made)


def test_memory_finds_every_tier_as_the_index_does_dir_1() -> None:
    """DIR-1: exact, prefix and contains from memory equal the index's, query by query."""
    rows = entries()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    attach(conn, ":memory:")
    index = SearchIndex(conn)
    index.rebuild(rows)
    scan = MemoryScan(table_of([entry for _, entry in rows]))
    texts = QUERIES + [e.name for _, e in rows] + [k for _, e in rows for k in e.keys]
    for text in (t for t in texts if "\x00" not in t):  # a linked handle may hold a NUL
        for tier in ("exact", "prefix", "contains"):
            expected = getattr(index, tier)(text, 50)
            assert getattr(scan, tier)(text, 50) == expected, (tier, text)
            assert getattr(scan, tier)(text, 3) == expected[:3], (tier, text)


def test_the_entry_table_holds_what_a_whole_index_of_entries_holds_dir_1() -> None:
    """DIR-1: the columns made in bulk are the entries, rowids and keys made one by one."""
    made = [entry for _, entry in entries()]
    table = table_of(made[::-1])
    assert table.entries() == spaced(made)
    assert list(table.key_rows()) == [k for n, e in spaced(made) for k in key_rows(n, e)]
    assert [row[4] for row in table.rows()] == [e.words for _, e in spaced(made)]
    data = load_directory(ROOT / "rules" / "directory.yaml")
    links = [("xmpp", "bob2@chat.example.org", "bob"), ("slack", "UNEW", "chen")]
    for groups in (True, False):
        whole = whole_index(data, links, groups)
        assert entry_table(data, whole.identities, groups).entries() == whole.entries


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Large enough for a worker at a few hundred members; it stops mid-transaction.

    The worker has written every entry (its transaction holds the index file's write
    lock) and waits for the gate before it indexes their words and commits.
    """
    monkeypatch.setattr(service, "BACKGROUND_MEMBERS", SMALL_ENOUGH)
    opened = threading.Event()
    build_fts = SearchIndex.build_fts

    def gated(self: SearchIndex) -> None:
        if threading.current_thread().name == "directory-index":
            assert self.conn.in_transaction
            assert opened.wait(60)
        build_fts(self)

    monkeypatch.setattr(SearchIndex, "build_fts", gated)
    yield opened
    opened.set()


async def say(core: Core, who: str, text: str) -> str:
    return (await core.handle(Command("console", who, text))).reply


FINDS = ["member 0001", "m000042", "U000000007", "0004", "member", "sam", "ali", "qqqz"]


async def test_find_answers_the_same_during_and_after_the_build_ops_2(
    tmp_path: Path, gate: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    """OPS-2, DIR-1: the first start answers at once; `find` is the same before and after.

    While the worker holds the index file's write lock, commands commit (the loop's
    database is another file). A link made meanwhile is found by its handle, during the
    build and after. A second start of the same file writes nothing.
    """
    caplog.set_level(logging.INFO, logger="backline.directory")
    rules, _ = generated_rules(tmp_path, MEMBERS)
    core = Core.open(rules, tmp_path / "db", FakeClock())
    try:
        assert core.directory.indexing
        assert indexed_source(core.store.conn) is None
        during = [await say(core, "alice", f"find {text}") for text in FINDS]
        during.append(await say(core, "alice", "find member --page 3"))
        assert "@m000042" in during[1].splitlines()[1]
        assert await say(core, "sam", "link @m000500 xmpp five@chat.example.org") != ""
        assert "@m000500" in (await say(core, "alice", "find five@chat.example.org"))
        assert await say(core, "chen", "ready") == "You are ready."
        gate.set()
        assert core.directory.wait_indexed(60)
        assert not core.directory.indexing
        after = [await say(core, "alice", f"find {text}") for text in FINDS]
        after.append(await say(core, "alice", "find member --page 3"))
        assert after == during
        linked = await say(core, "alice", "find five@chat.example.org")
        assert linked.splitlines()[1].split()[1] == "@m000500", linked
        assert indexed_source(core.store.conn) == stored_source(core.store.conn)
        assert core.directory.presence("chen").state.value == "ready"
    finally:
        core.store.close()
    again = Core.open(rules, tmp_path / "db", FakeClock())  # the same file: nothing to do
    try:
        assert not again.directory.indexing
        assert again.store.conn.total_changes == 0
        assert [await say(again, "alice", f"find {text}") for text in FINDS[:3]] == after[:3]
    finally:
        again.store.close()
    logged = [r.getMessage() for r in caplog.records]
    entries = len(core.directory.index.rowids)
    assert f"search index: building (0 of {entries} entries); find answers from memory" in logged
    assert any(m.startswith(f"search index: built, {entries} entries in ") for m in logged)


# A first start that dies (SIGKILL) once the worker has written every entry of the index
# and is building its full-text tables: the directory tables were committed before.
KILLED_MID_BUILD = """
    import os, signal, sys
    from pathlib import Path
    from bot.clock import FakeClock
    from bot.core import Core
    from bot.directory import service
    from bot.directory.search import SearchIndex

    def build_fts(self):
        self.conn.execute("INSERT INTO entries_words(entries_words) VALUES ('rebuild')")
        os.kill(os.getpid(), signal.SIGKILL)

    service.BACKGROUND_MEMBERS = int(sys.argv[3])
    SearchIndex.build_fts = build_fts
    core = Core.open(Path(sys.argv[1]), Path(sys.argv[2]), FakeClock())
    assert core.directory.indexing
    core.directory.wait_indexed()
    sys.exit(3)  # never reached: the worker killed the process
"""


def test_a_start_killed_mid_build_is_finished_by_the_next_ops_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPS-2: killed while the index is written, the next start keeps the tables and indexes."""
    rules, members = generated_rules(tmp_path, MEMBERS)
    database = tmp_path / "db"
    script = textwrap.dedent(KILLED_MID_BUILD)
    died = subprocess.run(
        [sys.executable, "-c", script, str(rules), str(database), str(SMALL_ENOUGH)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert died.returncode == -9, died.stderr.decode()
    monkeypatch.setattr(service, "BACKGROUND_MEMBERS", SMALL_ENOUGH)
    core = Core.open(rules, database, FakeClock())
    try:
        conn = core.store.conn
        assert stored_source(conn) == core.directory.source()  # the members were kept
        assert core.directory.indexing  # and the index is built again
        assert core.directory.wait_indexed(60)
        assert indexed_source(conn) == core.directory.source()
        refs = {r[0] for r in conn.execute("SELECT ref FROM entries WHERE kind = 'member'")}
        assert refs == {f"@{m}" for m in core.directory.data.members}
        for fts in ("entries_words", "entries_trigram"):
            conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')")
        name = str(members[123]["name"])
        assert core.directory.search("sam", name).refs[0] == "@m000123"
    finally:
        core.store.close()


def test_a_reload_during_the_build_waits_for_it_rul_5(
    tmp_path: Path, gate: threading.Event
) -> None:
    """RUL-5: a reload while the index is written plans against the finished index."""
    rules, members = generated_rules(tmp_path, MEMBERS)
    core = Core.open(rules, tmp_path / "db", FakeClock())
    try:
        assert core.directory.indexing
        renamed = [{**m, "name": "Renamed " + str(m["name"])} for m in members[:5]]
        write_directory(rules, renamed + members[5:])
        threading.Timer(0.2, gate.set).start()
        assert core.reload_rules() == []
        assert not core.directory.indexing
        assert core.directory.search("sam", "Renamed Member 000003").refs[0] == "@m000003"
        assert core.directory.search("sam", "Member 000003").refs[0] == "@m000003"
        assert indexed_source(core.store.conn) == stored_source(core.store.conn)
    finally:
        core.store.close()
