"""OPS-2: the SQLite store upgrades step by step, keeps its log append-only and runs in WAL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.interaction.model import Interaction
from bot.interaction.records import Records
from bot.storage import Store
from bot.storage.migrations import MIGRATIONS

# What each migration adds; a new migration must say here what it adds.
ADDS = {
    "0001_events": {"events", "idempotency"},
    "0002_directory": {
        "members",
        "identities",
        "links",
        "groups",
        "presence",
        "favourites",
        "recents",
    },
    "0003_search": {"entries", "entry_keys", "entries_words", "entries_trigram"},
    "0004_interactions": {"interactions", "parties"},
    "0005_messages": {"inbox", "mailboxes", "voicemails"},
    "0006_desk": {"counters", "focus", "subscriptions"},
    "0007_inbox_unread": set(),
    "0008_addresses": {"addresses"},
    "0009_fewer_pages_per_commit": set(),
    "0010_pages_a_command_touches": set(),
    "0011_interactions_in_creation_order": set(),
    "0012_events_found_from_their_interaction": set(),
}


def tables(db: Database) -> set[str]:
    """Our tables: FTS shadow tables and the migrations bookkeeping left out."""
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    shadows = {f"{v}_{part}" for v in virtual for part in FTS5_SHADOWS}
    return {name for name, _ in rows} - shadows - {MIGRATIONS.migrations_table}


FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")
ADDS_ALL = set().union(*ADDS.values())


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "upgrade.db")
    yield database
    database.close()


def test_every_migration_is_listed_here_in_order_ops_2(db: Database) -> None:
    assert [m.name for m in MIGRATIONS.pending(db)] == list(ADDS)


def test_empty_database_upgrades_one_migration_at_a_time_ops_2(db: Database) -> None:
    """OPS-2: each numbered step adds exactly its tables, and is recorded as applied."""
    names = [m.name for m in MIGRATIONS.pending(db)]
    expected: set[str] = set()
    for index, name in enumerate(names):
        following = names[index + 1] if index + 1 < len(names) else None
        MIGRATIONS.apply(db, stop_before=following)
        expected |= ADDS[name]
        assert tables(db) == expected, f"after {name}"
        assert [m.name for m in MIGRATIONS.applied(db)] == names[: index + 1]
        assert [m.name for m in MIGRATIONS.pending(db)] == names[index + 1 :]
    assert MIGRATIONS.pending(db) == []


def test_applying_again_changes_nothing_ops_2(db: Database) -> None:
    MIGRATIONS.apply(db)
    db["events"].insert({"at": 1.0, "kind": "command", "data": "{}"})
    schema = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    applied = MIGRATIONS.applied(db)

    MIGRATIONS.apply(db)

    assert (
        db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
    )
    assert MIGRATIONS.applied(db) == applied
    assert db["events"].count == 1
    assert MIGRATIONS.pending(db) == []


def test_a_partly_upgraded_database_is_finished_by_the_store_ops_2(tmp_path: Path) -> None:
    """OPS-2: an older data file (here: after 0002) is upgraded when the store opens it."""
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before="0003_search")
    old["members"].insert(
        {
            "id": "alice",
            "name": "Alice",
            "roles": "[]",
            "groups_": "[]",
            "skills": "[]",
            "handles": "{}",
        }
    )
    old.close()

    store = Store(path)
    try:
        assert MIGRATIONS.pending(store.db) == []
        assert tables(store.db) >= ADDS_ALL
        assert store.conn.execute("SELECT id FROM members").fetchall() == [("alice",)]
    finally:
        store.close()


def test_hot_tables_are_rebuilt_with_every_row_kept_ops_2(tmp_path: Path) -> None:
    """OPS-2: 0009 rebuilds events, interactions, parties and delivery keys with all rows;
    event ids go on from the last one and the log stays append-only."""
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before="0009_fewer_pages_per_commit")
    old.execute(
        "INSERT INTO events (at, kind, actor, subject, data) VALUES"
        " (1.0, 'created', 'alice', 'i1', '{}'), (2.0, 'said', 'alice', 'i1', '{\"text\": \"hi\"}')"
    )
    old.execute(
        "INSERT INTO interactions (id, kind, state, owner, parent, created, updated, data) VALUES"
        " ('i1', 'chat', 'active', 'alice', NULL, 1.0, 2.0, '{}'),"
        " ('i2', 'chat', 'closed', 'bob', NULL, 1.0, 3.0, '{}')"
    )
    old.execute(
        "INSERT INTO parties (interaction_id, who, role, connected, joined) VALUES"
        " ('i1', '@alice', 'owner', 1, 1.0), ('i1', 'customer:ann', 'customer', 1, 1.0)"
    )
    old.execute("INSERT INTO idempotency (key, at, reply) VALUES ('slack:Ev1', 1.0, '[]')")
    old.conn.commit()
    old.close()

    store = Store(path)
    try:
        assert MIGRATIONS.pending(store.db) == []
        assert [(e.id, e.kind, e.data) for e in store.events(subject="i1")] == [
            (1, "created", {}),
            (2, "said", {"text": "hi"}),
        ]
        rows = store.conn.execute("SELECT id, state FROM interactions ORDER BY id").fetchall()
        assert rows == [("i1", "active"), ("i2", "closed")]
        whos = store.conn.execute("SELECT who FROM parties ORDER BY who").fetchall()
        assert whos == [("@alice",), ("customer:ann",)]
        assert store.recall("slack:Ev1") == []
        with store.transaction():
            store.append_event(4.0, "command", actor="bob", subject="@bob")
        assert [e.id for e in store.events()][-1] == 3
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute("DELETE FROM events WHERE id = 1")
        live = store.conn.execute(
            "SELECT id FROM interactions INDEXED BY interactions_live WHERE closed = 0"
        ).fetchall()
        assert live == [("i1",)]
    finally:
        store.close()


STORED_DATA = (
    '{"customer": "Ann", "mode": null, "target": null, "initiator": null, "case": {},'
    ' "disposition": null, "offer": null}'
)


class _Journal:
    def state_changed(self, interaction: Interaction, source: str, trigger: str) -> None:
        raise AssertionError("loading records no transition")


def test_focus_recents_and_the_live_flag_survive_the_upgrade_ops_2(tmp_path: Path) -> None:
    """OPS-2: 0010 keeps every focus and recents row, marks closed interactions closed, and
    the live index is the one the store's own reads use."""
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before="0010_pages_a_command_touches")
    old.execute("INSERT INTO focus (member_id, interaction_id) VALUES ('alice', 'i1')")
    old.execute(
        "INSERT INTO recents (member_id, target, at, failed) VALUES ('alice', '@bob', 2.0, 1)"
    )
    old.execute(
        "INSERT INTO interactions (id, kind, state, owner, parent, created, updated, data) VALUES"
        " ('i1', 'chat', 'active', 'alice', NULL, 1.0, 2.0, ?),"
        " ('i2', 'chat', 'closed', 'bob', NULL, 1.0, 3.0, ?)",
        [STORED_DATA, STORED_DATA],
    )
    old.execute(
        "INSERT INTO events (at, kind, actor, subject, data) VALUES"
        " (1.0, 'said', 'alice', 'i1', '{}'), (2.0, 'command', 'alice', '@alice', '{}')"
    )
    old.conn.commit()
    old.close()

    store = Store(path)
    try:
        conn = store.conn
        assert conn.execute("SELECT * FROM focus").fetchall() == [("alice", "i1")]
        assert conn.execute("SELECT * FROM recents").fetchall() == [("alice", "@bob", 2.0, 1)]
        closed = conn.execute("SELECT id, closed FROM interactions ORDER BY id").fetchall()
        assert closed == [("i1", 0), ("i2", 1)]
        live = Records(store).load_live(_Journal())
        assert [ix.id for ix in live] == ["i1"]
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM interactions i WHERE i.closed = 0"
            )
        )
        assert "interactions_live" in plan
        assert [e.kind for e in store.events(subject="i1")] == ["said"]
        assert [e.kind for e in store.events(subject="@alice", kind="command")] == ["command"]
    finally:
        store.close()


def test_each_interaction_lists_its_events_and_the_subject_index_goes_ops_2(
    tmp_path: Path,
) -> None:
    """OPS-2, INT-5: 0012 writes into every interaction's row the ids of its events (a member's
    own lines are not theirs), drops the subject index, and reads by subject go by id."""
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before="0012_events_found_from_their_interaction")
    old.execute(
        "INSERT INTO interactions (seq, id, kind, state, owner, parent, created, updated, data,"
        " closed) VALUES (1, 'i1', 'chat', 'active', 'alice', NULL, 1.0, 2.0, ?, 0),"
        " (2, 'i2', 'chat', 'closed', 'bob', NULL, 1.0, 3.0, ?, 1)",
        [STORED_DATA, STORED_DATA],
    )
    old.execute(
        "INSERT INTO events (at, kind, actor, subject, data) VALUES"
        " (1.0, 'said', 'alice', 'i1', '{}'), (2.0, 'said', 'bob', 'i2', '{}'),"
        " (3.0, 'command', 'alice', '@alice', '{}'), (4.0, 'state', NULL, 'i1', '{}')"
    )
    old.conn.commit()
    old.close()

    store = Store(path)
    try:
        conn = store.conn
        rows = conn.execute("SELECT id, events FROM interactions ORDER BY seq").fetchall()
        assert rows == [("i1", "[1,4]"), ("i2", "[2]")]
        indexes = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        assert ("events_subject",) not in indexes
        records = Records(store)
        store.defer(records)  # as the engine has it
        assert [e.kind for e in store.events(subject="i1")] == ["said", "state"]
        assert [e.actor for e in store.events(subject="i2", kind="said")] == ["bob"]
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM events"
                " WHERE id IN (SELECT value FROM json_each('[1]'))"
            )
        )
        assert "INTEGER PRIMARY KEY" in plan and "SCAN events" not in plan
        (live,) = records.load_live(_Journal())
        assert live.event_ids() == [1, 4]
        with store.transaction():  # what Engine.event does: the id goes into the row
            live.logged(store.append_event(5.0, "said", subject="i1"))
            records.save(live, 5.0)
            assert [e.id for e in store.events(subject="i1")] == [1, 4, 5]
    finally:
        store.close()
    reopened = Store(path)
    try:
        Records(reopened)
        assert [e.kind for e in reopened.events(subject="i1")] == ["said", "state", "said"]
    finally:
        reopened.close()


def test_interactions_are_kept_in_creation_order_and_ids_go_on_ops_2(tmp_path: Path) -> None:
    """OPS-2: 0011 keys every interaction by the number in its id; the next id is one more
    than the newest (i10 after i9, though "i9" sorts after "i10" as text), also after a
    restart and after a rolled-back creation."""
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before="0011_interactions_in_creation_order")
    for n in (1, 9, 2):
        old.execute(
            "INSERT INTO interactions (id, kind, state, owner, parent, created, updated, data)"
            " VALUES (?, 'chat', 'active', 'alice', NULL, ?, ?, ?)",
            [f"i{n}", float(n), float(n), STORED_DATA],
        )
    old.conn.commit()
    old.close()

    store = Store(path)
    try:
        rows = store.conn.execute("SELECT seq, id FROM interactions ORDER BY rowid").fetchall()
        assert rows == [(1, "i1"), (2, "i2"), (9, "i9")]
        records = Records(store)
        assert [ix.id for ix in records.load_live(_Journal())] == ["i1", "i2", "i9"]
        assert records.exists("i9") and not records.exists("i3") and not records.exists("x9")
        assert not records.exists("i" + "9" * 5000)  # no id of ours, and no SQLite integer
        with store.transaction():
            assert records.next_id() == "i10"
        with pytest.raises(RuntimeError), store.transaction():
            assert records.next_id() == "i11"
            raise RuntimeError("rolled back")
        records.discard()  # what the store does on a rollback (a Deferred)
        assert records.next_id() == "i10"  # i10 was never stored
    finally:
        store.close()


def test_addresses_are_keyed_by_full_address_and_names_are_unique_ops_2(db: Database) -> None:
    """OPS-2 / INT-2: one row per (platform, full address); no two share a party name."""
    MIGRATIONS.apply(db)
    insert = "INSERT INTO addresses (platform, address, name, display, at) VALUES (?, ?, ?, ?, ?)"
    db.execute(insert, ("xmpp", "carol@a.test", "carol", "Carol", 1.0))
    db.execute(insert, ("console", "carol@a.test", "carol2", "Carol", 1.0))  # another platform
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(insert, ("xmpp", "carol@a.test", "carol3", "Carol", 2.0))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(insert, ("xmpp", "carol@b.test", "carol", "Carol", 2.0))
    rows = db.execute("SELECT platform, address, name, via FROM addresses ORDER BY name")
    assert rows.fetchall() == [
        ("xmpp", "carol@a.test", "carol", ""),
        ("console", "carol@a.test", "carol2", ""),
    ]


def test_an_adapters_own_migrations_keep_their_own_version_rows_ops_2(tmp_path: Path) -> None:
    """OPS-2: ``Store.migrate`` applies a component's migration set once; the core's are
    unaffected and the component's steps never show up as core steps."""
    own = Migrations("echo")

    @own(name="0001_echo")
    def _echo(db: Database) -> None:
        db.execute("CREATE TABLE echo_seen (id TEXT PRIMARY KEY)")

    path = tmp_path / "backline.db"
    store = Store(path)
    try:
        store.migrate(own)
        store.migrate(own)  # applying again changes nothing
        assert "echo_seen" in tables(store.db)
        assert [m.name for m in own.applied(store.db)] == ["0001_echo"]
        assert [m.name for m in MIGRATIONS.applied(store.db)] == list(ADDS)
        assert own.pending(store.db) == MIGRATIONS.pending(store.db) == []
    finally:
        store.close()


def test_event_log_is_append_only_ops_2(tmp_path: Path) -> None:
    """INT-5 / OPS-2: history is never rewritten: UPDATE and DELETE on events are refused."""
    store = Store(tmp_path / "backline.db")
    try:
        with store.transaction():
            store.append_event(1.0, "command", actor="alice", data={"text": "ready"})
        (first,) = [e.id for e in store.events()]
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute("UPDATE events SET kind = 'forged' WHERE id = ?", (first,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute("DELETE FROM events WHERE id = ?", (first,))
        store.append_event(2.0, "presence", actor="alice", data={"state": "ready"})
        assert [e.id for e in store.events()][-1] > first
        assert [(e.kind, e.data) for e in store.events()] == [
            ("command", {"text": "ready"}),
            ("presence", {"state": "ready"}),
        ]
    finally:
        store.close()


def test_store_reopens_with_its_data_in_wal_mode_ops_2(tmp_path: Path) -> None:
    """OPS-2: one file in WAL mode; closing and opening it again keeps every event."""
    path = tmp_path / "backline.db"
    store = Store(path)
    try:
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        with store.transaction():
            store.append_event(1.0, "command", actor="bob", subject="@bob", data={"text": "ready"})
        store.remember("slack:Ev1", 1.0, [{"to": "@bob", "text": "You are ready."}])
    finally:
        store.close()

    again = Store(path)
    try:
        assert again.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        events = again.events(kind="command")
        assert [(e.actor, e.subject, e.data) for e in events] == [
            ("bob", "@bob", {"text": "ready"})
        ]
        assert again.recall("slack:Ev1") == [{"to": "@bob", "text": "You are ready."}]
        assert MIGRATIONS.pending(again.db) == []
    finally:
        again.close()
    # WAL is a property of the file: a plain connection sees it too
    plain = sqlite3.connect(path)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        plain.close()
