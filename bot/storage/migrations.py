"""Numbered schema migrations; a new database is upgraded through every one in order."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("backline")


@MIGRATIONS(name="0001_events")
def _events(db: Database) -> None:
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT,
            subject TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX events_subject ON events(subject, id)")
    # The log is append-only: history is never rewritten.
    db.execute(
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
    )
    db.execute(
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
    )
    db.execute(
        """CREATE TABLE idempotency (
            key TEXT PRIMARY KEY, at REAL NOT NULL, reply TEXT NOT NULL
        )"""
    )


@MIGRATIONS(name="0002_directory")
def _directory(db: Database) -> None:
    db.execute(
        """CREATE TABLE members (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL,
            groups_ TEXT NOT NULL, skills TEXT NOT NULL, handles TEXT NOT NULL, voice TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE identities (
            platform TEXT NOT NULL, handle TEXT NOT NULL, member_id TEXT NOT NULL,
            PRIMARY KEY (platform, handle)
        )"""
    )
    # Identities linked at runtime by an admin (`link`); they survive directory reloads.
    db.execute(
        """CREATE TABLE links (
            platform TEXT NOT NULL, handle TEXT NOT NULL, member_id TEXT NOT NULL,
            at REAL NOT NULL, PRIMARY KEY (platform, handle)
        )"""
    )
    db.execute(
        """CREATE TABLE groups (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
            members TEXT NOT NULL, supervisors TEXT NOT NULL, routes_to TEXT NOT NULL,
            available INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE presence (
            member_id TEXT PRIMARY KEY, state TEXT NOT NULL, reason TEXT,
            since REAL NOT NULL, busy INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE favourites (
            member_id TEXT NOT NULL, target TEXT NOT NULL, at REAL NOT NULL,
            PRIMARY KEY (member_id, target)
        )"""
    )
    db.execute(
        """CREATE TABLE recents (
            member_id TEXT NOT NULL, target TEXT NOT NULL, at REAL NOT NULL,
            failed INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (member_id, target)
        )"""
    )


@MIGRATIONS(name="0003_search")
def _search(db: Database) -> None:
    db.execute(
        """CREATE TABLE entries (
            rowid INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            name TEXT NOT NULL, words TEXT NOT NULL
        )"""
    )
    # Exact-match keys (lowercased name, id, handles) of each entry.
    db.execute("CREATE TABLE entry_keys (key TEXT NOT NULL, entry INTEGER NOT NULL)")
    db.execute("CREATE INDEX entry_keys_key ON entry_keys(key, entry)")
    db.execute(
        """CREATE VIRTUAL TABLE entries_words USING fts5(
            words, content='entries', content_rowid='rowid',
            tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
        )"""
    )
    db.execute(
        """CREATE VIRTUAL TABLE entries_trigram USING fts5(
            words, content='entries', content_rowid='rowid', tokenize='trigram'
        )"""
    )
    for fts in ("entries_words", "entries_trigram"):
        db.execute(
            f"""CREATE TRIGGER {fts}_ai AFTER INSERT ON entries BEGIN
                INSERT INTO {fts}(rowid, words) VALUES (new.rowid, new.words); END"""
        )
        db.execute(
            f"""CREATE TRIGGER {fts}_ad AFTER DELETE ON entries BEGIN
                INSERT INTO {fts}({fts}, rowid, words) VALUES('delete', old.rowid, old.words);
                END"""
        )
        db.execute(
            f"""CREATE TRIGGER {fts}_au AFTER UPDATE ON entries BEGIN
                INSERT INTO {fts}({fts}, rowid, words) VALUES('delete', old.rowid, old.words);
                INSERT INTO {fts}(rowid, words) VALUES (new.rowid, new.words); END"""
        )


@MIGRATIONS(name="0004_interactions")
def _interactions(db: Database) -> None:
    db.execute(
        """CREATE TABLE interactions (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,
            owner TEXT, parent TEXT, created REAL NOT NULL, updated REAL NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX interactions_live ON interactions(state)")
    db.execute(
        """CREATE TABLE parties (
            interaction_id TEXT NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL,
            connected INTEGER NOT NULL, joined REAL NOT NULL,
            muted INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, about TEXT,
            PRIMARY KEY (interaction_id, who)
        )"""
    )


@MIGRATIONS(name="0005_messages")
def _messages(db: Database) -> None:
    db.execute(
        """CREATE TABLE inbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, member_id TEXT NOT NULL,
            type TEXT NOT NULL, priority TEXT NOT NULL, at REAL NOT NULL,
            text TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'new'
        )"""
    )
    db.execute("CREATE INDEX inbox_member ON inbox(member_id, id DESC)")
    db.execute(
        """CREATE TABLE mailboxes (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL, pin TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE voicemails (
            id INTEGER PRIMARY KEY AUTOINCREMENT, mailbox TEXT NOT NULL,
            caller TEXT NOT NULL, at REAL NOT NULL, duration REAL NOT NULL DEFAULT 0,
            media TEXT, text TEXT, status TEXT NOT NULL DEFAULT 'new'
        )"""
    )
    db.execute("CREATE INDEX voicemails_box ON voicemails(mailbox, status)")


@MIGRATIONS(name="0006_desk")
def _desk(db: Database) -> None:
    # Short interaction ids (i1, i2, ...) come from a counter that never goes back.
    db.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    # Each member's current interaction: where `say TEXT` and commands without an id go.
    db.execute("CREATE TABLE focus (member_id TEXT PRIMARY KEY, interaction_id TEXT NOT NULL)")
    # `monitor @agent next`: a supervisor follows an agent's next interactions (SUP-5, SUP-7).
    db.execute(
        """CREATE TABLE subscriptions (
            supervisor TEXT NOT NULL, agent TEXT NOT NULL, mode TEXT NOT NULL,
            at REAL NOT NULL, PRIMARY KEY (supervisor, agent)
        )"""
    )


@MIGRATIONS(name="0007_inbox_unread")
def _inbox_unread(db: Database) -> None:
    # `messages` counts a member's new messages on every listing: keep that an index look-up.
    db.execute("CREATE INDEX inbox_unread ON inbox(member_id, status)")


@MIGRATIONS(name="0008_addresses")
def _addresses(db: Database) -> None:
    # The address book: every outside party by its full platform address, never its name.
    # ``name`` is the customer's party name (``customer:NAME``), unique across all of them.
    db.execute(
        """CREATE TABLE addresses (
            platform TEXT NOT NULL, address TEXT NOT NULL, name TEXT NOT NULL UNIQUE,
            display TEXT NOT NULL, via TEXT NOT NULL DEFAULT '', at REAL NOT NULL,
            PRIMARY KEY (platform, address)
        )"""
    )


@MIGRATIONS(name="0009_fewer_pages_per_commit")
def _fewer_pages(db: Database) -> None:
    # Every commit writes each page it touched to the log: keep the hot tables to one
    # b-tree each. Events are append-only, so a plain rowid never repeats without
    # AUTOINCREMENT (whose sequence row was one more page per commit); interactions and
    # parties and delivery keys live in their primary key; only live interactions are indexed.
    db.execute("ALTER TABLE events RENAME TO events_old")
    db.execute("DROP INDEX events_subject")
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT,
            subject TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("INSERT INTO events SELECT * FROM events_old")
    db.execute("DROP TABLE events_old")
    db.execute("CREATE INDEX events_subject ON events(subject, id)")
    db.execute(
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
    )
    db.execute(
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
    )
    db.execute("ALTER TABLE interactions RENAME TO interactions_old")
    db.execute("DROP INDEX interactions_live")
    db.execute(
        """CREATE TABLE interactions (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,
            owner TEXT, parent TEXT, created REAL NOT NULL, updated REAL NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        ) WITHOUT ROWID"""
    )
    db.execute("INSERT INTO interactions SELECT * FROM interactions_old")
    db.execute("DROP TABLE interactions_old")
    db.execute("CREATE INDEX interactions_live ON interactions(id) WHERE state != 'closed'")
    db.execute("ALTER TABLE parties RENAME TO parties_old")
    db.execute(
        """CREATE TABLE parties (
            interaction_id TEXT NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL,
            connected INTEGER NOT NULL, joined REAL NOT NULL,
            muted INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, about TEXT,
            PRIMARY KEY (interaction_id, who)
        ) WITHOUT ROWID"""
    )
    db.execute("INSERT INTO parties SELECT * FROM parties_old")
    db.execute("DROP TABLE parties_old")
    db.execute("ALTER TABLE idempotency RENAME TO idempotency_old")
    db.execute(
        """CREATE TABLE idempotency (
            key TEXT PRIMARY KEY, at REAL NOT NULL, reply TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
    db.execute("INSERT INTO idempotency SELECT * FROM idempotency_old")
    db.execute("DROP TABLE idempotency_old")


@MIGRATIONS(name="0010_pages_a_command_touches")
def _pages_a_command_touches(db: Database) -> None:
    # Three more pages a command no longer writes:
    # - focus and recents live in their primary key (a replaced row touched the table
    #   and its key's index);
    # - a live interaction changing state left its "live" index entry where it was, yet
    #   rewrote it: the index now depends on a flag set once, when the interaction closes;
    # - a member's own log lines (commands, presence, refusals) are read by kind, never by
    #   subject: the subject index holds only what is read by subject, the interactions'.
    for table, columns, key in (
        ("focus", "member_id TEXT NOT NULL, interaction_id TEXT NOT NULL", "member_id"),
        (
            "recents",
            "member_id TEXT NOT NULL, target TEXT NOT NULL, at REAL NOT NULL,"
            " failed INTEGER NOT NULL DEFAULT 0",
            "member_id, target",
        ),
    ):
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        db.execute(f"CREATE TABLE {table} ({columns}, PRIMARY KEY ({key})) WITHOUT ROWID")
        db.execute(f"INSERT INTO {table} SELECT * FROM {table}_old")
        db.execute(f"DROP TABLE {table}_old")
    db.execute("DROP INDEX interactions_live")
    db.execute("ALTER TABLE interactions ADD COLUMN closed INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE interactions SET closed = 1 WHERE state = 'closed'")
    db.execute("CREATE INDEX interactions_live ON interactions(id) WHERE closed = 0")
    db.execute("DROP INDEX events_subject")
    db.execute(
        "CREATE INDEX events_subject ON events(subject, id)"
        " WHERE kind NOT IN ('command', 'presence', 'refused')"
    )


@MIGRATIONS(name="0011_interactions_in_creation_order")
def _interactions_in_creation_order(db: Database) -> None:
    # Interactions are keyed by the number in their id (i42 → 42): a new one goes at the
    # end of the table instead of between i4 and i5 (where the text i42 sorts), which split
    # a full page on most arrivals; the newest row also gives the next id, so no counter
    # row is written per arrival.
    db.execute("DROP INDEX interactions_live")
    db.execute("ALTER TABLE interactions RENAME TO interactions_old")
    db.execute(
        """CREATE TABLE interactions (
            seq INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
            owner TEXT, parent TEXT, created REAL NOT NULL, updated REAL NOT NULL,
            data TEXT NOT NULL DEFAULT '{}', closed INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        "INSERT INTO interactions SELECT CAST(substr(id, 2) AS INTEGER), id, kind, state,"
        " owner, parent, created, updated, data, closed FROM interactions_old"
    )
    db.execute("DROP TABLE interactions_old")
    db.execute("CREATE INDEX interactions_live ON interactions(seq) WHERE closed = 0")


@MIGRATIONS(name="0012_events_found_from_their_interaction")
def _events_found_from_their_interaction(db: Database) -> None:
    # The index of the log by subject wrote a page of its own on almost every command (an
    # interaction's entries sit among older ones): each interaction's row, written by that
    # command anyway, now lists the ids of its events, and the index goes.
    db.execute("ALTER TABLE interactions ADD COLUMN events TEXT NOT NULL DEFAULT '[]'")
    db.execute(
        "UPDATE interactions SET events = (SELECT json_group_array(id) FROM (SELECT id"
        " FROM events WHERE subject = interactions.id"
        " AND kind NOT IN ('command', 'presence', 'refused') ORDER BY id))"  # as indexed
    )
    db.execute("DROP INDEX events_subject")
