"""Building the whole search index in a worker thread while the bot already answers.

A first start of a large directory stores the members and answers; this thread then
prepares every search entry, hands ``find`` an in-memory search of them (``MemoryScan``)
and writes the index file (``bot.directory.index_file``) in one transaction on a
connection of its own. The loop's commits go to the main database and never wait for it;
the loop takes the index over once it is committed (``Directory``). Killed half way, the
build commits nothing, and the next start builds it again.

Its steps run one after the other: on a busy two-core machine, overlapping the in-memory
search's preparation with the index writes made the build slower, not faster.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
import time

from bot.directory.index_file import attach, record_indexed
from bot.directory.model import DirectoryData
from bot.directory.plan import Links, whole_index
from bot.directory.quiet import collector_paused, switching_often
from bot.directory.scan import MemoryScan
from bot.directory.search import Entry, SearchIndex
from bot.directory.stored import Source

log = logging.getLogger("backline.directory")
BUSY_MS = 60_000  # another build of the same file (a restart in the same process) may hold it


class IndexBuild:
    """One build of the whole index of ``data`` into the index file of ``database``."""

    def __init__(self, database: str, data: DirectoryData, links: Links, source: Source) -> None:
        self.database = database
        self.data = data
        self.links = links
        self.source = source
        self.rowids: dict[str, int] = {}
        self.scan: MemoryScan | None = None
        self.error: Exception | None = None
        self.seconds = 0.0
        self._prepared = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="directory-index", daemon=True)

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

    def prepared(self) -> MemoryScan | None:
        """The in-memory search of every entry, once the worker has made it (it waits)."""
        self._prepared.wait()
        return self.scan

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            with collector_paused(), switching_often():
                whole = whole_index(self.data, self.links, self.source[1])
                self.rowids = {entry.ref: rowid for rowid, entry in whole.entries}
                self.scan = MemoryScan(whole.entries)
                self._prepared.set()
                self._write(whole.entries)
                del whole
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
            self._prepared.set()
            self._done.set()

    def _write(self, entries: list[tuple[int, Entry]]) -> None:
        """The whole index in one transaction on a connection of this thread's own."""
        total = f"{len(entries):,}"
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            attach(conn, self.database)
            index = SearchIndex(conn)
            conn.execute("BEGIN IMMEDIATE")
            log.info("search index: building (0 of %s entries); find answers from memory", total)
            index.write_entries(entries)
            log.info("search index: building (%s of %s entries written, now words)", total, total)
            index.build_fts()
            record_indexed(conn, self.source)
            conn.execute("COMMIT")
        finally:
            conn.close()
