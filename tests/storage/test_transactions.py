"""OPS-2: a transaction commits everything or nothing; a nested one rolls back only itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import Store


class Boom(Exception):
    """What the block raises."""


def kinds(store: Store) -> list[str]:
    return [e.kind for e in store.events()]


def test_a_failed_block_leaves_nothing_and_a_good_one_commits_ops_2(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    try:
        with pytest.raises(Boom), store.transaction():
            store.append_event(1.0, "lost")
            raise Boom
        assert not store.conn.in_transaction
        with store.transaction():
            store.append_event(2.0, "kept")
        assert kinds(store) == ["kept"]
    finally:
        store.close()
    reopened = Store(tmp_path / "t.db")
    try:
        assert kinds(reopened) == ["kept"]
    finally:
        reopened.close()


def test_a_nested_block_that_fails_rolls_back_only_itself_ops_2(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    try:
        with store.transaction():
            store.append_event(1.0, "before")
            with pytest.raises(Boom), store.transaction():
                store.append_event(2.0, "inside")
                raise Boom
            assert store.conn.in_transaction  # the outer one goes on
            with store.transaction():
                store.append_event(3.0, "nested and kept")
            store.append_event(4.0, "after")
        assert kinds(store) == ["before", "nested and kept", "after"]
        assert not store.conn.in_transaction
    finally:
        store.close()


def test_a_read_of_the_log_sees_its_own_pending_events_ops_2(tmp_path: Path) -> None:
    """Events appended in the open transaction are read back, in order, by subject and
    kind; rolled back, they are gone."""
    store = Store(tmp_path / "t.db")
    try:
        with store.transaction():
            store.append_event(1.0, "said", subject="i1", data={"text": "stored"})
        with pytest.raises(Boom), store.transaction():
            store.append_event(2.0, "said", subject="i2", data={"text": "other"})
            store.append_event(3.0, "state", subject="i1")
            assert [e.data for e in store.events(subject="i1", kind="said")] == [{"text": "stored"}]
            store.append_event(4.0, "said", subject="i1", data={"text": "pending"})
            said = store.events(subject="i1", kind="said")
            assert [e.data["text"] for e in said] == ["stored", "pending"]
            assert [e.kind for e in store.events(subject="i1")] == ["said", "state", "said"]
            raise Boom
        assert [e.data["text"] for e in store.events(kind="said")] == ["stored"]
    finally:
        store.close()


def test_event_ids_are_given_in_order_and_again_after_a_rollback_ops_2(tmp_path: Path) -> None:
    """An appended event has its id at once (its interaction's row lists it); a rolled-back
    event's id is given again, and a reopened store goes on after the newest."""
    store = Store(tmp_path / "t.db")
    try:
        with store.transaction():
            first = store.append_event(1.0, "kept")
        with pytest.raises(Boom), store.transaction():
            rolled_back = store.append_event(2.0, "gone")
            raise Boom
        with store.transaction():
            again = store.append_event(3.0, "kept")
        assert (first, rolled_back, again) == (1, 2, 2)
        assert [(e.id, e.at) for e in store.events()] == [(1, 1.0), (2, 3.0)]
    finally:
        store.close()
    reopened = Store(tmp_path / "t.db")
    try:
        assert reopened.append_event(4.0, "after a restart") == 3
    finally:
        reopened.close()
