"""Checkpointing the WAL from a thread of its own, so no command waits for it.

SQLite checkpoints a WAL database on the commit that crosses ``wal_autocheckpoint`` pages:
that commit, on the event loop, then copies the log back into the database (several
milliseconds). backline turns that off and checkpoints from here, on a second connection,
with ``PASSIVE`` checkpoints that never block the writer; durability is unchanged, since a
committed transaction is already in the log.

The log starts over from its first frame only when every frame in it has been copied at
the moment a write begins. Under steady traffic a pass from this thread never catches the
writer: frames keep arriving while it copies, so the log would grow without end (hundreds
of megabytes within minutes of load, every commit extending the file). Once the log is
past ``restart_frames``, the thread therefore asks the writer to catch up: at the start of
its next transaction the store copies the few frames written since this thread's pass
(``Store`` calls ``catch_up``), and the write that follows starts the log over.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("backline.storage")

RESTART_FRAMES = 4096
"""Past this many frames (16 MiB of 4 KiB pages) the log is started over."""


class Checkpointer:
    """A daemon thread that checkpoints ``path`` every ``every`` seconds until stopped."""

    def __init__(self, path: str, every: float = 0.5, restart_frames: int = RESTART_FRAMES) -> None:
        self.path = path
        self.every = every
        self.restart_frames = restart_frames
        self.wanted = False
        """Set by this thread: the writer should copy the last frames before its next write."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(self.every):
                try:
                    self._pass(conn)
                except sqlite3.Error as exc:  # busy or locked: the next round tries again
                    log.debug("wal checkpoint skipped: %s", exc)
            self._pass(conn)
        finally:
            conn.close()

    def _pass(self, conn: sqlite3.Connection) -> None:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.wanted = not busy and copied == frames >= self.restart_frames

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Copy the frames written since this thread's last pass, on the writer's connection.

        The store calls it between transactions; the next write then starts the log over.
        """
        self.wanted = False
        conn.execute("PRAGMA main.wal_checkpoint(PASSIVE)").fetchone()

    def stop(self) -> None:
        """Checkpoint once more and end the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
