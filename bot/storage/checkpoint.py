"""Checkpointing the WAL from a thread of its own, so no command waits for it.

SQLite checkpoints a WAL database on the commit that crosses ``wal_autocheckpoint`` pages:
that commit, on the event loop, then copies the log back into the database (several
milliseconds). backline turns that off and checkpoints from here, on a second connection,
with ``PASSIVE`` checkpoints that never block the writer; durability is unchanged, since a
committed transaction is already in the log.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("backline.storage")


class Checkpointer:
    """A daemon thread that checkpoints ``path`` every ``every`` seconds until stopped."""

    def __init__(self, path: str, every: float = 0.5) -> None:
        self.path = path
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(self.every):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # busy or locked: the next round tries again
                    log.debug("wal checkpoint skipped: %s", exc)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()

    def stop(self) -> None:
        """Checkpoint once more and end the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
