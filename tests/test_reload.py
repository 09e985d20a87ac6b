"""RUL-5, DIR-6: reloading a large directory while members work, and what it writes.

A reload (SIGHUP's ``Core.reload``) parses and plans in a worker thread and writes in
short steps, so a member's `ready` is answered while 20,000 members reload; an unchanged
file writes nothing, a changed member is the only one written, a broken file keeps the
old rules, and a crash half way through a reload leaves nothing half-loaded at start-up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.core import Core
from bot.directory.service import Directory
from bot.directory.stored import stored_source
from bot.events import Command
from tests.directory.generated import generated_rules, member, write_directory
from tests.support.console import copy_rules

LARGE = 20_000


def open_core(rules: Path, database: Path) -> Core:
    return Core.open(rules, database, FakeClock())


async def say(core: Core, who: str, text: str) -> str:
    return (await core.handle(Command("console", who, text))).reply


def edit(members: list[dict[str, object]], renamed: int, added: int) -> list[dict[str, object]]:
    """Rename the first ``renamed`` members, drop the last ``added``, add as many new."""
    out = [
        {**m, "name": f"Renamed {m['name']}"} if i < renamed else m for i, m in enumerate(members)
    ]
    return out[: len(out) - added] + [member(900_000 + i, "Newcomer") for i in range(added)]


async def test_ready_is_answered_while_a_large_directory_reloads_rul_5(tmp_path: Path) -> None:
    """RUL-5: during a 20,000-member reload, `ready` is answered in a fraction of its time."""
    rules, members = generated_rules(tmp_path, LARGE)
    core = open_core(rules, tmp_path / "db")
    try:
        write_directory(rules, edit(members, renamed=2000, added=1000))
        reload = asyncio.create_task(core.reload())
        started, answers = time.perf_counter(), []
        while not reload.done():
            asked = time.perf_counter()
            await say(core, "alice", "ready" if len(answers) % 2 == 0 else "not ready")
            answers.append(time.perf_counter() - asked)
            await asyncio.sleep(0.01)
        assert await reload == []
        seconds = time.perf_counter() - started
        assert len(answers) >= 3, f"only {len(answers)} answers in a {seconds:.2f} s reload"
        assert max(answers) < seconds / 4, (max(answers), seconds)
        assert core.directory.member("m000001").name == "Renamed Member 000001"
        assert "@m900000" in await say(core, "sam", "find Newcomer 900000")
        assert "Nothing found" in await say(core, "sam", "find m019999")
    finally:
        core.store.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Core, Path]]:
    """The demo rules, copied so a test may edit them, and a core on them."""
    rules = copy_rules(tmp_path)
    core = open_core(rules, tmp_path / "db")
    yield core, rules
    core.store.close()


async def test_an_unchanged_directory_file_reloads_without_writing_rul_5(
    demo: tuple[Core, Path],
) -> None:
    """RUL-5: reloading the same files writes no row, by SIGHUP or by an admin's `reload`."""
    core, _ = demo
    before = core.store.conn.total_changes
    assert await core.reload() == []
    assert core.reload_rules() == []
    assert core.store.conn.total_changes == before


async def test_a_changed_member_is_updated_and_only_it_is_written_dir_6(
    demo: tuple[Core, Path],
) -> None:
    """DIR-6: renaming bob in the file renames him everywhere; no other member is rewritten."""
    core, rules = demo
    conn = core.store.conn
    conn.execute("CREATE TEMP TABLE written (id TEXT)")
    conn.execute(
        "CREATE TEMP TRIGGER members_written AFTER INSERT ON main.members"
        " BEGIN INSERT INTO written VALUES (new.id); END"
    )
    path = rules / "directory.yaml"
    path.write_text(path.read_text().replace("Bob Baker", "Robert Baker"))
    assert await core.reload() == []
    assert [r[0] for r in conn.execute("SELECT id FROM written")] == ["bob"]
    assert core.directory.member("bob").name == "Robert Baker"
    assert "@bob" in await say(core, "sam", "find Robert")
    assert conn.execute("SELECT name FROM members WHERE id = 'bob'").fetchone() == ("Robert Baker",)


async def test_a_broken_directory_keeps_the_old_rules_rul_5(demo: tuple[Core, Path]) -> None:
    """RUL-5: a reload of a broken file names file and line; the old directory stays."""
    core, rules = demo
    source = stored_source(core.store.conn)
    path = rules / "directory.yaml"
    text = path.read_text()
    path.write_text(text.replace("members: [alice, bob, chen]", "members: [alice, zed]", 1))
    problems = await core.reload()
    assert any("directory.yaml:" in p and "unknown member 'zed'" in p for p in problems)
    assert core.directory.member("bob").name == "Bob Baker"
    assert "@bob" in await say(core, "sam", "find Bob")
    assert stored_source(core.store.conn) == source


@pytest.mark.parametrize("file_after", ["edited", "reverted"])
async def test_start_up_after_a_crash_mid_reload_is_consistent_ops_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_after: str
) -> None:
    """OPS-2: a reload that dies after writing its steps leaves a start-up that is whole.

    The steps of the reload are committed, the swap never happens (the process dies);
    the next start-up loads the file as it then is, the edited one or the old one.
    """
    rules, members = generated_rules(tmp_path, 3000)
    core = open_core(rules, tmp_path / "db")
    edited = edit(members, renamed=300, added=100)
    write_directory(rules, edited)

    def crash(self: Directory, plan: object) -> None:
        raise RuntimeError("the process died")

    monkeypatch.setattr(Directory, "swap", crash)
    with pytest.raises(RuntimeError):
        await core.reload()
    assert core.store.conn.execute("SELECT count(*) FROM members WHERE id = 'm900000'").fetchone()
    core.store.close()
    monkeypatch.undo()
    if file_after == "reverted":
        write_directory(rules, members)
    expected = edited if file_after == "edited" else members
    core = open_core(rules, tmp_path / "db")
    try:
        assert_whole(core, {str(m["id"]): str(m["name"]) for m in expected})
    finally:
        core.store.close()


def assert_whole(core: Core, names: dict[str, str]) -> None:
    """Memory, tables and the search index all hold exactly the directory file."""
    conn = core.store.conn
    demo = {"alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky"}
    ids = set(names) | demo
    assert set(core.directory.data.members) == ids
    assert {r[0] for r in conn.execute("SELECT id FROM members")} == ids
    assert {r[0] for r in conn.execute("SELECT member_id FROM presence")} == ids
    refs = {r[0] for r in conn.execute("SELECT ref FROM entries WHERE kind = 'member'")}
    assert refs == {f"@{i}" for i in ids}
    for fts in ("entries_words", "entries_trigram"):
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')")
    for mid in ("m000000", "m000299", "m000300", "m002899", "m900099"):
        if mid in names:
            assert core.directory.member(mid).name == names[mid]
            page = core.directory.search("sam", names[mid])
            assert page.refs[0] == f"@{mid}", (names[mid], page.refs)
