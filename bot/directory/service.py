"""The directory as the core uses it: look-ups, presence with live group counts, search."""

from __future__ import annotations

import json
from collections.abc import Iterator

from bot.clock import Clock
from bot.directory.contacts import Contacts
from bot.directory.identities import Identities
from bot.directory.model import DirectoryData, Group, Member
from bot.directory.presence import Presence, PresenceState
from bot.directory.search import Entry, Page, SearchIndex
from bot.directory.targets import Target, parse_target
from bot.errors import NotFound
from bot.storage import Store


class Directory:
    """Members, groups and presence; every write joins the caller's transaction.

    Available-agent counts per group are kept up to date on every presence change
    (GRP-2): a change that flips a member between available and not moves each of the
    member's group counts by one, in memory and in the ``groups`` table.
    """

    def __init__(
        self, store: Store, clock: Clock, data: DirectoryData, *, index_groups: bool = True
    ) -> None:
        self.store = store
        self.clock = clock
        self.data = data
        self.index = SearchIndex(store.conn)
        self.identities = Identities()
        self.contacts = Contacts(store.conn, clock)
        self._presence: dict[str, Presence] = {}
        self._available: dict[str, int] = {}
        self._index_groups = index_groups
        self.became_available: list[str] = []  # since the last settle: routing offers them work
        self.dirty = False  # changed in the open transaction
        self.load(data, index_groups=index_groups)

    # -- loading -----------------------------------------------------------------

    def load(self, data: DirectoryData, *, index_groups: bool = True) -> None:
        """Replace the directory with ``data``, keeping the presence of members who stay."""
        self.data, self._index_groups = data, index_groups
        links = self.store.conn.execute("SELECT platform, handle, member_id FROM links")
        self.identities.load(data, links.fetchall())
        with self.store.transaction():
            self._write_directory(data)
            self.index.replace_all(self._entries())
            self.refresh()
            self.store.conn.executemany(
                "UPDATE groups SET available = ? WHERE id = ?",
                ((n, ref) for ref, n in self._available.items()),
            )

    def refresh(self) -> None:
        """Re-read presence and identities from the store (after a rolled-back command)."""
        self.dirty = False
        self.became_available.clear()
        self._presence = self._read_presence()
        self._available = self.recount()
        links = self.store.conn.execute("SELECT platform, handle, member_id FROM links")
        self.identities.load(self.data, links.fetchall())

    def _write_directory(self, data: DirectoryData) -> None:
        conn = self.store.conn
        for table in ("members", "identities", "groups"):
            conn.execute(f"DELETE FROM {table}")
        conn.executemany(
            "INSERT INTO members (id, name, roles, groups_, skills, handles, voice)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    m.id,
                    m.name,
                    json.dumps(sorted(m.roles)),
                    json.dumps(m.groups),
                    json.dumps(m.skills),
                    json.dumps(dict(m.handles)),
                    m.voice,
                )
                for m in data.members.values()
            ),
        )
        conn.executemany(
            "INSERT INTO identities (platform, handle, member_id) VALUES (?, ?, ?)",
            self.identities.rows(),
        )
        conn.executemany(
            "INSERT INTO groups (id, kind, name, members, supervisors, routes_to)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    g.ref,
                    g.kind.value,
                    g.name,
                    json.dumps(g.members),
                    json.dumps(g.supervisors),
                    json.dumps(g.routes_to),
                )
                for g in data.groups.values()
            ),
        )
        conn.executemany(
            "INSERT INTO mailboxes (id, kind, owner) VALUES (?, ?, ?) ON CONFLICT(id)"
            " DO UPDATE SET kind = excluded.kind, owner = excluded.owner",
            ((b.id, "group" if b.group else "personal", b.owner) for b in data.mailboxes.values()),
        )
        conn.executemany(
            "DELETE FROM mailboxes WHERE id = ?",
            [
                (box,)
                for (box,) in conn.execute("SELECT id FROM mailboxes")
                if box not in data.mailboxes
            ],
        )
        conn.execute("DELETE FROM presence WHERE member_id NOT IN (SELECT id FROM members)")
        conn.execute(
            "INSERT OR IGNORE INTO presence (member_id, state, since)"
            " SELECT id, 'logged_off', ? FROM members",
            (self.clock.now(),),
        )

    def _entries(self) -> Iterator[Entry]:
        for ref in self.data.members:
            yield self._member_entry(self.data.members[ref])
        if self._index_groups:
            for g in self.data.groups.values():
                yield Entry(g.ref, g.kind.value, g.name, (g.id, g.ref))

    def _member_entry(self, m: Member) -> Entry:
        return Entry(m.ref, "member", m.name, (m.id, *self.identities.handles(m.id).values()))

    def _read_presence(self) -> dict[str, Presence]:
        rows = self.store.conn.execute("SELECT member_id, state, reason, since, busy FROM presence")
        return {
            mid: Presence(PresenceState(state), since, reason, bool(busy))
            for mid, state, reason, since, busy in rows
        }

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
        conn.execute("DELETE FROM identities")
        conn.executemany(
            "INSERT INTO identities (platform, handle, member_id) VALUES (?, ?, ?)",
            self.identities.rows(),
        )
        self.index.update(self._member_entry(self.member(member_id)))

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
        group = self.data.groups.get(str(target))
        if group is None:
            raise NotFound(f"There is no {target.kind_name} called '{target.id}'. Try `groups`.")
        return group

    # -- presence and availability ------------------------------------------------

    def presence(self, member_id: str) -> Presence:
        """The member's current presence."""
        return self._presence[member_id]

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
        counts = {ref: 0 for ref in self.data.groups}
        for mid, presence in self._presence.items():
            if presence.available and mid in self.data.members:
                for group in self.data.groups_of(mid):
                    counts[group.ref] += 1
        return counts

    # -- search -------------------------------------------------------------------

    def search(self, member_id: str, text: str, *, page: int = 1, page_size: int = 10) -> Page:
        """Search the directory; the member's favourites and recents come first (DIR-1)."""
        refs = self.contacts.favourites(member_id) + self.contacts.recents(member_id)
        first = [e for e in map(self.entry, refs) if e is not None]
        return self.index.search(text, first=first, page=page, page_size=page_size)

    def entry(self, ref: str) -> Entry | None:
        """The search entry for a member or group ref, or None if it is gone."""
        if ref.startswith("@"):
            m = self.data.members.get(ref[1:])
            return None if m is None else self._member_entry(m)
        g = self.data.groups.get(ref)
        return None if g is None else Entry(g.ref, g.kind.value, g.name, (g.id, g.ref))
