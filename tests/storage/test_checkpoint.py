"""OPS-2: the WAL is checkpointed by a thread of its own; commits never pay for it."""

from __future__ import annotations

import time
from pathlib import Path

from bot.storage import Store
from bot.storage.checkpoint import Checkpointer


def stored_events(path: Path) -> int:
    """How many events a store reopened on ``path`` reads back."""
    reopened = Store(path)
    try:
        return len(reopened.events(kind="bench"))
    finally:
        reopened.close()


def test_commits_leave_checkpoints_to_the_checkpoint_thread_ops_2(tmp_path: Path) -> None:
    path = tmp_path / "backline.db"
    store = Store(path)
    try:
        assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        start = path.stat().st_size
        for n in range(400):
            with store.transaction():
                store.append_event(float(n), "bench", data={"pad": "x" * 2000})
        deadline = time.monotonic() + 5
        # Only a checkpoint moves pages from the log into the database file.
        while path.stat().st_size < start + 600_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= start + 600_000
    finally:
        store.close()
    assert stored_events(path) == 400


def test_the_log_starts_over_under_steady_writes_ops_2(tmp_path: Path) -> None:
    """Writes that never pause still let the log restart, so it stays a few pages long.

    Without the writer's catch-up, each pass of the thread is overtaken by new frames and
    the log (and its file) grows by every page ever written: 6,000 frames (24 MB) here.
    """
    path = tmp_path / "backline.db"
    store = Store(path)
    assert store.checkpointer is not None
    store.checkpointer.stop()
    store.checkpointer = Checkpointer(str(path), every=0.01, restart_frames=64)
    wal = Path(f"{path}-wal")
    try:
        for n in range(3000):
            with store.transaction():
                store.append_event(float(n), "bench", data={"pad": "x" * 3000})
        assert wal.stat().st_size < 6 * 1024 * 1024
    finally:
        store.close()
    assert stored_events(path) == 3000
