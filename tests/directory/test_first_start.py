"""OPS-2, DIR-1: the first start on an empty database, and the start after it.

The first start of a directory below ``BACKGROUND_MEMBERS`` writes it whole in one
transaction, the full-text index built while the other tables' rows are prepared (a
larger one leaves its index to a worker: ``test_index_build``). A process killed half
way leaves nothing that the next start trusts: it loads the file whole again. A second
start of the same file takes the directory from the store, exactly as the file reads,
and writes nothing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from bot.clock import FakeClock
from bot.core import Core
from bot.directory.loader import load_directory
from bot.directory.stored import stored_source
from tests.directory.generated import generated_rules

ROOT = Path(__file__).resolve().parents[2]
DEMO = {"alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky"}
MEMBERS = 3000

# A first start that dies (SIGKILL, no clean-up) once FTS5 has indexed one of the two
# full-text tables: every other directory row was written, nothing was committed.
KILLED_MID_INDEX = """
    import os, signal, sys
    from pathlib import Path
    from bot.clock import FakeClock
    from bot.core import Core
    from bot.directory.search import SearchIndex

    def build_fts(self):
        self.conn.execute("INSERT INTO entries_words(entries_words) VALUES ('rebuild')")
        os.kill(os.getpid(), signal.SIGKILL)

    SearchIndex.build_fts = build_fts
    Core.open(Path(sys.argv[1]), Path(sys.argv[2]), FakeClock())
"""


def open_core(rules: Path, database: Path) -> Core:
    return Core.open(rules, database, FakeClock())


def assert_whole(core: Core, names: dict[str, str]) -> None:
    """Memory, tables and both full-text indexes hold exactly the directory file."""
    conn = core.store.conn
    ids = set(names) | DEMO
    assert set(core.directory.data.members) == ids
    for sql in ("SELECT id FROM members", "SELECT member_id FROM presence"):
        assert {r[0] for r in conn.execute(sql)} == ids, sql
    refs = {r[0] for r in conn.execute("SELECT ref FROM entries WHERE kind = 'member'")}
    assert refs == {f"@{i}" for i in ids}
    for fts in ("entries_words", "entries_trigram"):
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')")
    for mid in ("m000000", "m001234", "m002999"):
        assert core.directory.presence(mid).state.value == "logged_off"
        assert core.directory.search("sam", names[mid]).refs[0] == f"@{mid}"  # exact
        assert f"@{mid}" in core.directory.search("sam", mid[3:]).refs  # contains


def test_a_first_start_killed_mid_index_is_loaded_whole_by_the_next_ops_2(
    tmp_path: Path,
) -> None:
    """OPS-2: killed while indexing, the first start leaves no directory; the next loads it."""
    rules, members = generated_rules(tmp_path, MEMBERS)
    database = tmp_path / "db"
    script = textwrap.dedent(KILLED_MID_INDEX)
    died = subprocess.run(
        [sys.executable, "-c", script, str(rules), str(database)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert died.returncode == -9, died.stderr.decode()
    core = open_core(rules, database)
    try:
        assert_whole(core, {str(m["id"]): str(m["name"]) for m in members})
        assert stored_source(core.store.conn) == core.directory.source()
    finally:
        core.store.close()


def test_a_second_start_takes_the_file_as_stored_and_writes_nothing_ops_2(
    tmp_path: Path,
) -> None:
    """OPS-2: the same file again: the directory read back is the file's, no row written."""
    rules, members = generated_rules(tmp_path, MEMBERS)
    open_core(rules, tmp_path / "db").store.close()
    core = open_core(rules, tmp_path / "db")
    try:
        assert core.directory.data == load_directory(rules / "directory.yaml")
        assert core.store.conn.total_changes == 0
        assert_whole(core, {str(m["id"]): str(m["name"]) for m in members})
    finally:
        core.store.close()
