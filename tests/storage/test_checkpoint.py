"""OPS-2: the WAL is checkpointed by a thread of its own; commits never pay for it."""

from __future__ import annotations

import time
from pathlib import Path

from bot.storage import Store


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
    reopened = Store(path)
    try:
        assert len(reopened.events(kind="bench")) == 400
    finally:
        reopened.close()
