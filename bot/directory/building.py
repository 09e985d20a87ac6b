"""Building the whole search index in a worker thread while the bot already answers.

A first start of a large directory stores the members, then makes every search entry
(an ``EntryTable``) and the in-memory search of them (``MemoryScan``) before it answers:
``find`` searches that from the first command and never waits for this thread. The
worker then writes the index file (``bot.directory.index_file``) in one transaction on
a connection of its own; the loop's commits go to the main database and never wait for
it. The loop takes the index over once it is committed (``Directory``). Killed half way,
the build commits nothing, and the next start builds it again.

Once committed, the index file's write-ahead log (as large as the index) is checkpointed
into the file and truncated.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
import time

from bot.directory.identities import Identities
from bot.directory.index_file import SCHEMA, attach, record_indexed
from bot.directory.model import DirectoryData
from bot.directory.quiet import collector_paused, switching_often
from bot.directory.scan import MemoryScan
from bot.directory.search import SearchIndex
from bot.directory.stored import Source
from bot.directory.table import EntryTable, entry_table

log = logging.getLogger("backline.directory")
BUSY_MS = 60_000  # another build of the same file (a restart in the same process) may hold it
CHECKPOINT_BUSY_MS = 1_000  # a reader of an older snapshot: the log is truncated another time


class IndexBuild:
    """One build of the whole index of ``table`` into the index file of ``database``.

    The entries and their in-memory search are made by the thread that stores the
    directory, and the worker starts once that is committed: a worker running Python
    for long stretches would hold up every row that thread writes meanwhile (each waits
    out the interpreter's switch interval), and ``find`` never waits for the worker.
    """

    def __init__(self, database: str, table: EntryTable, source: Source) -> None:
        self.database = database
        self.table: EntryTable | None = table
        self.source = source
        self.rowids = dict(zip(table.refs, table.rowids, strict=True))
        self.scan = MemoryScan(table)
        self.error: Exception | None = None
        self.seconds = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="directory-index", daemon=True)

    @classmethod
    def of(
        cls, database: str, data: DirectoryData, identities: Identities, source: Source
    ) -> IndexBuild:
        """A build of every search entry of ``data``, its members as ``identities`` know them."""
        with collector_paused():
            return cls(database, entry_table(data, identities, source[1]), source)

    def start(self) -> None:
        """Start the worker."""
        self._thread.start()

    @property
    def done(self) -> bool:
        """Whether the worker has finished (written the index, or failed)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the worker has finished; whether it has."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            with collector_paused(), switching_often():
                if self.table is not None:
                    self._write(self.table)
                self.table = None
                gc.freeze()  # what the build made is never walked once collecting again
            self.seconds = time.perf_counter() - started
            log.info(
                "search index: built, %s entries in %.1f s; find uses it now",
                f"{len(self.rowids):,}",
                self.seconds,
            )
        except Exception as exc:  # the directory goes on answering from memory
            self.error = exc
            log.warning("search index: build failed (%s); find answers from memory", exc)
        finally:
            self._done.set()

    def _write(self, table: EntryTable) -> None:
        """The whole index in one transaction on a connection of this thread's own."""
        total = f"{len(table):,}"
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpointed once, below
            attach(conn, self.database)
            index = SearchIndex(conn)
            conn.execute("BEGIN IMMEDIATE")
            log.info("search index: building (0 of %s entries); find answers from memory", total)
            index.write_entries(table.rows(), table.key_rows())
            log.info("search index: building (%s of %s entries written, now words)", total, total)
            index.build_fts()
            record_indexed(conn, self.source)
            conn.execute("COMMIT")
            conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")
            truncate_log(conn)
        finally:
            conn.close()


def truncate_log(conn: sqlite3.Connection) -> None:
    """Copy the index file's write-ahead log into it and empty the log (best effort)."""
    try:
        conn.execute(f"PRAGMA {SCHEMA}.wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as exc:  # the next build or start checkpoints it
        log.info("search index: log not truncated (%s)", exc)
