"""The directory as the core uses it: look-ups, presence with live group counts, search."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait

from bot.clock import Clock
from bot.directory.building import IndexBuild
from bot.directory.contacts import Contacts
from bot.directory.identities import Identities
from bot.directory.index_file import attach, indexed_source, record_indexed
from bot.directory.model import DirectoryData, Group, Member
from bot.directory.ordering import group_entry, member_entry
from bot.directory.plan import Before, Plan, plan_load, whole_index
from bot.directory.presence import Presence, PresenceState
from bot.directory.quiet import collector_paused
from bot.directory.scan import MemoryScan
from bot.directory.search import Entry, Page, SearchIndex, Tiers, rank
from bot.directory.stored import MIGRATIONS, Source, read_stored, record_source, stored_source
from bot.directory.targets import Target, parse_target
from bot.directory.writes import batches, run_all
from bot.errors import CommandError, NotFound
from bot.storage import Store

_STATES = {state.value: state for state in PresenceState}

# A reload writes in steps of about STEP_SECONDS (rows in chunks of CHUNK_ROWS), whatever
# the machine's speed: about the longest a command waits for one.
STEP_SECONDS = 0.01
CHUNK_ROWS = 50
BREATHE = 0.002  # between steps: commands, adapters and timers get a turn of the loop
# From this many members, a load against the store leaves the search index to a worker
# (``IndexBuild``) and the directory answers at once; smaller ones are indexed in place.
BACKGROUND_MEMBERS = 20_000


class Directory:
    """Members, groups and presence; every write joins the caller's transaction.

    Available-agent counts per group are kept up to date on every presence change
    (GRP-2): a change that flips a member between available and not moves each of the
    member's group counts by one, in memory and in the ``groups`` table.

    The search index lives in a file of its own (``bot.directory.index_file``). When it
    must be written whole for a large directory, a worker builds it (``IndexBuild``) and
    ``search`` answers from memory meanwhile; the index is taken over once committed.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        data: DirectoryData,
        *,
        index_groups: bool = True,
        digest: str = "",
    ) -> None:
        store.migrate(MIGRATIONS)
        attach(store.conn, store.path)
        self.store = store
        self.clock = clock
        self.data = data
        self.index = SearchIndex(store.conn)
        self.identities = Identities()
        self.contacts = Contacts(store.conn, clock)
        self._presence: dict[str, Presence] = {}
        self._available: dict[str, int] = {}
        self._ready: set[str] = set()  # members available now (ready and not busy)
        self._index_groups = index_groups
        self.became_available: list[str] = []  # since the last settle: routing offers them work
        self.dirty = False  # changed in the open transaction
        self.synced = True  # the tables hold exactly what memory holds
        self.loading = False  # a reload is under way
        self._source: Source = (digest, index_groups)
        self._build: IndexBuild | None = None
        self._scan: MemoryScan | None = None  # after a failed build: search from memory
        self._relinked = Relinked()
        store.defer(self._relinked)
        with collector_paused():
            if digest and stored_source(store.conn) == self._source:
                self.refresh()  # an unchanged file: nothing to write
                if indexed_source(store.conn) == self._source:
                    self.index.read_rowids()
                else:  # the index was never finished (a build killed half way)
                    self._index_whole()
            else:
                self.synced = False
                self.load(data, index_groups=index_groups, digest=digest)

    # -- loading -----------------------------------------------------------------

    def load(self, data: DirectoryData, *, index_groups: bool = True, digest: str = "") -> None:
        """Replace the directory with ``data`` at once, keeping the presence of who stays.

        Only what changed is written; after a failed or interrupted load, or when the
        tables were written by another file, everything is checked against the store.
        """
        if self.unchanged(digest, index_groups):
            return
        self.wait_indexed()
        source = (digest, index_groups)
        build = None
        with self.store.transaction():
            if self.synced:
                plan = self.plan(data, index_groups=index_groups, digest=digest, bulk=True)
                run_all(self.store.conn, plan.steps)
                if plan.rebuild is not None:
                    self.index.rebuild(plan.rebuild)
            elif self._in_background(data):
                plan, build = self._load_for_build(data, source)
            else:
                plan = self._load_whole(data, source)
            settle = not self.synced
            self.swap(plan)
            if settle:
                self._settle_presence()
        if build is not None:  # committed: the worker writes the index beside the loop
            self._build = build
            build.start()

    def _load_for_build(self, data: DirectoryData, source: Source) -> tuple[Plan, IndexBuild]:
        """Write ``data`` against the store, all but the index; the plan and its build.

        The build (``IndexBuild``) holds every search entry and their in-memory search,
        made here so that ``find`` never waits for the worker that writes them.
        """
        before, links = self.before(), self.links()
        plan = plan_load(before, data, source, links, self.clock.now(), bulk=True, index=False)
        run_all(self.store.conn, plan.steps)
        record_indexed(self.store.conn, None)  # the index no longer matches the tables
        return plan, IndexBuild.of(self.store.path, data, plan.identities, source)

    def _load_whole(self, data: DirectoryData, source: Source) -> Plan:
        """Write ``data`` against the store, the index whole; the plan, for ``swap``.

        The index's entries are written first; while FTS5 indexes their words (C code
        that lets Python threads run), this thread plans the other tables' rows.
        """
        before, links = self.before(), self.links()
        whole = whole_index(data, links, source[1])
        self.index.write_whole(whole.entries)
        with ThreadPoolExecutor(1, thread_name_prefix="directory-fts") as worker:
            indexed = worker.submit(self.index.build_fts)
            try:
                plan = plan_load(
                    before, data, source, links, self.clock.now(), bulk=True, whole=whole
                )
            finally:
                wait([indexed])  # the connection is the worker's until it is done
            indexed.result()
        run_all(self.store.conn, plan.steps)
        return plan

    def _in_background(self, data: DirectoryData) -> bool:
        """Whether a whole index of ``data`` is left to a worker (large, in a file)."""
        return self.store.path != ":memory:" and len(data.members) >= BACKGROUND_MEMBERS

    def _index_whole(self) -> None:
        """Write the index of the directory in memory whole: by a worker if it is large."""
        if self._in_background(self.data):
            self._start_build()
            return
        whole = whole_index(self.data, self.links(), self._index_groups)
        with self.store.transaction():
            self.index.rebuild(whole.entries)
            record_indexed(self.store.conn, self._source)
        self.index.rowids = {entry.ref: rowid for rowid, entry in whole.entries}

    def _start_build(self) -> None:
        """Have a worker build the index; return once ``find`` can search it in memory."""
        self._build = IndexBuild.of(self.store.path, self.data, self.identities, self._source)
        self._build.start()

    @property
    def indexing(self) -> bool:
        """Whether a worker is still building the search index."""
        return self._build is not None and not self._build.done

    def wait_indexed(self, timeout: float | None = None) -> bool:
        """Wait for a build of the index under way, then take it over; whether it is."""
        if self._build is not None and not self._build.wait(timeout):
            return False
        self._take_over()
        return True

    async def until_indexed(self) -> None:
        """Wait, off the loop, for a build of the index under way; then take it over."""
        build = self._build
        if build is not None:
            await asyncio.to_thread(build.wait)
        self._take_over()

    def _take_over(self) -> None:
        """Once the worker is done: search uses the index, then the links made meanwhile."""
        build = self._build
        if build is not None and build.done:
            self._build = None
            if build.error is None:
                self.index.rowids = build.rowids
            else:
                self._scan = build.scan
        if self._build is None and self._scan is None:
            self._relinked.write(self)

    def _tiers(self) -> Tiers:
        """Where search looks now: the index, or memory while the index is built."""
        self._take_over()
        if self._build is not None:
            return self._build.scan
        return self._scan or self.index

    def source(self) -> Source:
        """The hash and index setting memory was loaded from."""
        return self._source

    def links(self) -> list[tuple[str, str, str]]:
        """Identities an admin linked at runtime, as stored."""
        rows = self.store.conn.execute("SELECT platform, handle, member_id FROM links")
        return [(p, h, m) for p, h, m in rows]

    def known(self, digest: str) -> DirectoryData | None:
        """The directory in memory, if it was loaded from a file with this content hash."""
        return self.data if digest and digest == self._source[0] and self.synced else None

    def unchanged(self, digest: str, index_groups: bool) -> bool:
        """Whether a load of this file, so indexed, would write nothing."""
        return bool(digest) and (digest, index_groups) == self._source and self.synced

    def before(self) -> Before:
        """What the tables hold now, for a plan: memory when in sync, else the store."""
        if self.synced:
            return Before(self.data, self._index_groups, self.identities, self.index.rowids)
        return Before(read_stored(self.store.conn), self._index_groups, Identities(), None)

    def plan(
        self, data: DirectoryData, *, index_groups: bool, digest: str, bulk: bool = False
    ) -> Plan:
        """Prepare a load of ``data`` here and now (see ``bot.directory.plan``)."""
        source = (digest, index_groups)
        return plan_load(self.before(), data, source, self.links(), self.clock.now(), bulk=bulk)

    async def write_steps(self, plan: Plan, lock: asyncio.Lock) -> None:
        """Write a plan's steps in short transactions, letting commands run in between.

        The steps write only rows that no command reads back by itself: the members
        table (commands ask memory), new members' presence, mailboxes that
        come or change, and search entries (refs memory does not know yet are skipped by
        ``search``). Presence and mailboxes that go, the groups and memory wait for
        ``swap``. The first step clears the recorded file hash, so a crash before the
        swap makes the next start-up load everything again.
        """
        conn = self.store.conn
        chunks = batches(plan.steps, CHUNK_ROWS)
        chunk = next(chunks, None)
        cleared = False
        try:
            while chunk is not None:
                async with lock:
                    with self.store.transaction():
                        if not cleared:
                            record_source(conn, None)
                            cleared = True
                        until = time.perf_counter() + STEP_SECONDS
                        while chunk is not None and time.perf_counter() < until:
                            run_all(conn, chunk)
                            chunk = next(chunks, None)
                await asyncio.sleep(BREATHE)
        except BaseException:
            self.synced = False
            raise

    def swap(self, plan: Plan) -> None:
        """Make the planned directory current: memory and the last writes, in one short step.

        Runs inside the caller's transaction, after every step of the plan was written;
        memory changes only once every write succeeded.
        """
        conn = self.store.conn
        links = self.links()
        if links != plan.links:  # an admin linked someone while the load was prepared
            plan.identities.load(plan.data, links)
        counts = count_available(plan.data, self._ready)  # the added are logged off
        run_all(conn, plan.final)
        if plan.groups:
            conn.execute("DELETE FROM groups")
            conn.executemany(
                "INSERT INTO groups (id, kind, name, members, supervisors, routes_to, available)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row, counts.get(row[0], 0)) for row in plan.groups],
            )
        else:
            conn.executemany(
                "UPDATE groups SET available = ? WHERE id = ?", [(n, r) for r, n in counts.items()]
            )
        record_source(conn, plan.source if plan.source[0] else None)
        if plan.indexed:
            record_indexed(conn, plan.source)
        for mid in plan.removed:
            self._presence.pop(mid, None)
            self._ready.discard(mid)
        logged_off = Presence(PresenceState.LOGGED_OFF, plan.since)
        self._presence.update((mid, logged_off) for mid in plan.added)
        self.data, self.identities, self._available = plan.data, plan.identities, counts
        self._index_groups, self.index.rowids = plan.index_groups, plan.rowids
        self._source, self.synced = plan.source, True

    def _settle_presence(self) -> None:
        """After loading against the store: presence rows exactly for the members."""
        conn = self.store.conn
        conn.execute("DELETE FROM presence WHERE member_id NOT IN (SELECT id FROM members)")
        first = conn.execute("SELECT 1 FROM presence LIMIT 1").fetchone() is None
        now = self.clock.now()
        conn.execute(
            "INSERT OR IGNORE INTO presence (member_id, state, since)"
            " SELECT id, 'logged_off', ? FROM members",
            (now,),
        )
        # The identities are the plan's, links included. On a first load every member
        # is logged off since now: nothing to read back.
        logged_off = Presence(PresenceState.LOGGED_OFF, now)
        self._reread_presence(dict.fromkeys(self.data.members, logged_off) if first else None)
        conn.executemany(
            "UPDATE groups SET available = ? WHERE id = ?",
            [(n, ref) for ref, n in self._available.items()],
        )

    def refresh(self) -> None:
        """Re-read presence and identities from the store (after a rolled-back command)."""
        self._reread_presence()
        self.identities.load(self.data, self.links())

    def _reread_presence(self, presence: dict[str, Presence] | None = None) -> None:
        """Presence (as the store has it, unless given), who is available, group counts."""
        self.dirty = False
        self.became_available.clear()
        self._presence = self._read_presence() if presence is None else presence
        self._ready = {mid for mid, p in self._presence.items() if p.available}
        self._available = self.recount()

    def _read_presence(self) -> dict[str, Presence]:
        """Presence as stored; members with the same presence share one (immutable) value.

        After a first load all 100,000 are logged off since the same moment: one object.
        """
        rows = self.store.conn.execute("SELECT member_id, state, reason, since, busy FROM presence")
        shared: dict[tuple[str, str | None, float, int], Presence] = {}
        out: dict[str, Presence] = {}
        for mid, *row in rows:
            key = (row[0], row[1], row[2], row[3])
            value = shared.get(key)
            if value is None:
                value = shared[key] = Presence(_STATES[row[0]], row[2], row[1], bool(row[3]))
            out[mid] = value
        return out

    # -- look-ups ----------------------------------------------------------------

    def member(self, member_id: str) -> Member:
        """The member with this id; raises ``NotFound``."""
        try:
            return self.data.members[member_id]
        except KeyError:
            raise NotFound(f"@{member_id} is not in the directory.") from None

    def identify(self, platform: str, handle: str) -> Member | None:
        """The member behind a platform identity (on the console, the member id)."""
        if platform == "console":
            return self.data.members.get(handle.removeprefix("@"))
        member_id = self.identities.owner(platform, handle)
        return None if member_id is None else self.data.members.get(member_id)

    def link(self, member_id: str, platform: str, handle: str) -> None:
        """Link a platform identity to a member (DIR-6); refused if it is someone else's."""
        self._take_over()
        self.identities.link(member_id, platform, handle)
        self.dirty = True
        conn = self.store.conn
        conn.execute(
            "DELETE FROM links WHERE member_id = ? AND platform = ?", (member_id, platform)
        )
        conn.execute(
            "INSERT OR REPLACE INTO links (platform, handle, member_id, at) VALUES (?, ?, ?, ?)",
            (platform, handle, member_id, self.clock.now()),
        )
        entry = member_entry(self.member(member_id), self.identities)
        if self._build is None and self._scan is None:
            self.index.update(entry)
            return
        # The build indexes the member as linked before: written once it is done.
        self._relinked.waiting.add(member_id)
        scan = self._build.scan if self._build is not None else self._scan
        if scan is not None:
            scan.replace(entry)

    def resolve(self, text: str) -> Member | Group:
        """A target written by a member: ``@bob`` or ``group:support``; raises ``NotFound``."""
        target = parse_target(text)
        return self.lookup(target)

    def lookup(self, target: Target) -> Member | Group:
        """The member or group a parsed target names; raises ``NotFound``."""
        if target.kind == "member":
            if target.id in self.data.members:
                return self.data.members[target.id]
            raise NotFound(f"Nobody called {target} is in the directory. Try `find {target.id}`.")
        if target.kind == "vm":
            raise CommandError(
                f"{target} is a mailbox: `transfer {target}` sends a caller there, "
                f"`status {target}` shows its messages, `fav add {target}` keeps it handy."
            )
        group = self.data.groups.get(str(target))
        if group is None:
            raise NotFound(f"There is no {target.kind_name} called '{target.id}'. Try `groups`.")
        return group

    # -- presence and availability ------------------------------------------------

    def presence(self, member_id: str) -> Presence:
        """The member's current presence."""
        return self._presence[member_id]

    def members_where(self, test: Callable[[Presence], bool]) -> list[str]:
        """Members whose presence passes ``test`` (one pass over the presence table in memory)."""
        return [mid for mid, presence in self._presence.items() if test(presence)]

    def set_presence(
        self, member_id: str, state: PresenceState, reason: str | None = None
    ) -> Presence:
        """Set the state a member chose (ready, not ready, after call work, logged off)."""
        old = self._presence[member_id]
        return self._apply(member_id, Presence(state, self.clock.now(), reason, old.busy))

    def set_busy(self, member_id: str, busy: bool) -> Presence:
        """Mark a member busy (on a call, at capacity) or free again; the chosen state stays."""
        old = self._presence[member_id]
        if old.busy == busy:
            return old
        return self._apply(member_id, Presence(old.state, old.since, old.reason, busy))

    def _apply(self, member_id: str, new: Presence) -> Presence:
        old = self._presence[member_id]
        conn = self.store.conn
        conn.execute(
            "UPDATE presence SET state = ?, reason = ?, since = ?, busy = ? WHERE member_id = ?",
            (new.state.value, new.reason, new.since, int(new.busy), member_id),
        )
        self.store.append_event(
            self.clock.now(),
            "presence",
            actor=member_id,
            subject=f"@{member_id}",
            data={"state": new.state.value, "reason": new.reason, "busy": new.busy},
        )
        self._presence[member_id] = new
        if new.available:
            self._ready.add(member_id)
        else:
            self._ready.discard(member_id)
        self.dirty = True
        if new.available and not old.available:
            self.became_available.append(member_id)
        if old.available != new.available:
            delta = 1 if new.available else -1
            for group in self.data.groups_of(member_id):
                self._available[group.ref] += delta
                conn.execute(
                    "UPDATE groups SET available = ? WHERE id = ?",
                    (self._available[group.ref], group.ref),
                )
        return new

    def available(self, group_ref: str) -> int:
        """How many members of the group or skill are available now (GRP-2, GRP-4)."""
        return self._available.get(group_ref, 0)

    def counts(self) -> dict[str, int]:
        """Available members of every group and skill, as maintained."""
        return dict(self._available)

    def recount(self) -> dict[str, int]:
        """Count available members per group from presence alone (the slow, sure way)."""
        ready = [mid for mid, presence in self._presence.items() if presence.available]
        return count_available(self.data, ready)

    # -- search -------------------------------------------------------------------

    def search(self, member_id: str, text: str, *, page: int = 1, page_size: int = 10) -> Page:
        """Search the directory; the member's favourites and recents come first (DIR-1)."""
        refs = self.contacts.favourites(member_id) + self.contacts.recents(member_id)
        first = [e for e in map(self.entry, refs) if e is not None]
        return rank(
            self._tiers(), text, first=first, page=page, page_size=page_size, known=self._knows
        )

    def _knows(self, ref: str) -> bool:
        if ref.startswith("@"):
            return ref[1:] in self.data.members
        return ref in self.data.groups

    def entry(self, ref: str) -> Entry | None:
        """The search entry for a member or group ref, or None if it is gone."""
        if ref.startswith("@"):
            m = self.data.members.get(ref[1:])
            return None if m is None else member_entry(m, self.identities)
        g = self.data.groups.get(ref)
        return None if g is None else group_entry(g)


def count_available(data: DirectoryData, available: Iterable[str]) -> dict[str, int]:
    """Members of every group and skill among the ``available`` ones."""
    counts = {ref: 0 for ref in data.groups}
    for mid in available:
        if mid in data.members:
            for group in data.groups_of(mid):
                counts[group.ref] += 1
    return counts


class Relinked:
    """Members linked while the index was built: their entries are written after it.

    Written inside the transaction that takes the index over; should it roll back, they
    wait again (``Deferred``: the store calls ``discard``).
    """

    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self.written: set[str] = set()

    def write(self, directory: Directory) -> None:
        """Re-index the waiting members that are still in the directory."""
        for member_id in sorted(self.waiting):
            member = directory.data.members.get(member_id)
            if member is not None:
                directory.index.update(member_entry(member, directory.identities))
        self.written |= self.waiting
        self.waiting.clear()

    def flush(self) -> None:
        """Nothing waits for the commit."""

    def committed(self) -> None:
        """What was written is stored."""
        self.written.clear()

    def discard(self) -> None:
        """Rolled back: write them again next time."""
        self.waiting |= self.written
        self.written.clear()
