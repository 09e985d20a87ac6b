"""Interactions in the store: one row each plus its parties; live ones are reloaded on start."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from sys import intern
from typing import Any

from bot.interaction.model import Interaction, Journal, Offer, Party, PartyRole
from bot.storage import Store, jsontext

_SAVE_LIVE = (
    "INSERT INTO interactions"
    " (seq, id, kind, state, owner, parent, created, updated, data, closed, events)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(seq) DO UPDATE SET"
    " state = excluded.state, owner = excluded.owner, updated = excluded.updated,"
    " data = excluded.data, events = excluded.events"
)
"""A live row's update never names ``closed``, so its entry in the live index stays put."""
_SAVE_CLOSED = f"{_SAVE_LIVE}, closed = excluded.closed"

PartyRow = tuple[str, str, str, int, float, int, int, str | None]


MAX_DIGITS = 18
"""Longer numbers are no id of ours (and no SQLite integer)."""


def seq_of(iid: str) -> int:
    """The number in an id (``i42`` → 42), the row's key; -1 (no row's) for anything else.

    Rows are so stored in creation order, and a new one goes at the end.
    """
    number = iid[1:]
    if iid[:1] != "i" or not number.isdigit() or not number.isascii() or len(number) > MAX_DIGITS:
        return -1
    return int(number)


class Records:
    """Reads and writes interactions, focus and supervision subscriptions.

    It is the store's ``Locator`` for interactions: a row lists the ids of its events.

    ``save`` is deferred (``bot.storage.sqlite.Deferred``): an interaction saved three
    times by one command is written once, as it is when the command commits, and of its
    parties only those that changed since the last commit (the rows as committed are kept
    per live interaction; after a rollback they are compared afresh).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        store.locator = self
        self._dirty: dict[str, tuple[Interaction, float]] = {}
        self._written: dict[str, tuple[PartyRow, ...]] = {}  # parties as committed, per live id
        self._flushed: dict[str, tuple[PartyRow, ...] | None] = {}  # ... as this transaction wrote
        self._fresh: set[str] = set()  # ids handed out and not yet written: no parties stored
        self._last: int | None = None  # the number of the newest id handed out; None: ask
        # agents someone may follow: every agent with a subscription, and perhaps a few whose
        # subscription went (or was rolled back); the others take new work without a query
        self._followed = {
            agent for (agent,) in self.conn.execute("SELECT agent FROM subscriptions")
        }

    def next_id(self) -> str:
        """A new short id: ``i1``, ``i2``, ... one more than the newest stored or handed out.

        Every id handed out is stored by the commit that made it (``Engine.create`` saves
        at once), so after a restart or a rollback the newest row tells where to go on.
        """
        if self._last is None:
            (last,) = self.conn.execute("SELECT coalesce(max(seq), 0) FROM interactions").fetchone()
            self._last = int(last)
        self._last += 1
        iid = f"i{self._last}"
        self._fresh.add(iid)
        return iid

    def save(self, ix: Interaction, now: float) -> None:
        """Write the interaction and its parties as they are now (at the latest on commit)."""
        self._dirty[ix.id] = (ix, now)
        if not self.conn.in_transaction:
            self.flush()

    def flush(self) -> None:
        """Write every interaction saved since the last flush."""
        dirty, self._dirty = self._dirty, {}
        for ix, now in dirty.values():
            self._write(ix, now)

    def committed(self) -> None:
        """The parties this transaction wrote are what the store now holds."""
        for iid, rows in self._flushed.items():
            if rows is None:
                self._written.pop(iid, None)
            else:
                self._written[iid] = rows
        self._flushed.clear()

    def discard(self) -> None:
        """The transaction (or a savepoint in it) rolled back: what it saved may not be stored.

        Those interactions are compared afresh: their parties are written on their next save.
        """
        for iid in (*self._dirty, *self._flushed):
            self._written.pop(iid, None)
        self._dirty.clear()
        self._flushed.clear()
        self._last = None  # ids handed out inside it were not stored: they are given again

    def _write(self, ix: Interaction, now: float) -> None:
        data = {
            "customer": ix.customer,
            "mode": ix.mode,
            "target": ix.target,
            "initiator": ix.initiator,
            "case": ix.case,
            "disposition": ix.disposition,
            "offer": ix.offer.as_dict() if ix.offer else None,
        }
        self.conn.execute(
            _SAVE_LIVE if ix.live else _SAVE_CLOSED,
            (
                seq_of(ix.id),
                ix.id,
                ix.kind,
                ix.state,
                ix.owner,
                ix.parent,
                ix.created,
                now,
                jsontext.dumps(data),
                int(not ix.live),
                jsontext.dumps(ix.event_ids()),
            ),
        )
        iid = ix.id
        rows = tuple(
            [
                (iid, p.who, p.role, int(p.connected), p.joined, int(p.muted), int(p.done), p.about)
                for p in ix.parties.values()  # p.role is a StrEnum: stored as its text
            ]
        )
        stored = self._flushed[ix.id] if ix.id in self._flushed else self._written.get(ix.id)
        if rows == stored:
            return
        self._flushed[ix.id] = rows if ix.live else None  # a closed one is never compared again
        if stored is None:  # never compared: whatever the store holds is replaced
            if ix.id in self._fresh:
                self._fresh.discard(ix.id)
            else:
                self.conn.execute("DELETE FROM parties WHERE interaction_id = ?", (ix.id,))
            changed = rows
        else:
            changed = tuple(set(rows) - set(stored))
            gone = {row[1] for row in stored} - {row[1] for row in rows}
            if gone:
                self.conn.executemany(
                    "DELETE FROM parties WHERE interaction_id = ? AND who = ?",
                    [(ix.id, who) for who in gone],
                )
        if changed:
            self.conn.executemany(
                "INSERT OR REPLACE INTO parties"
                " (interaction_id, who, role, connected, joined, muted, done, about)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                changed,
            )

    def event_ids(self, subject: str) -> Sequence[int] | None:
        """The ids of the events about interaction ``subject``; None if there is no such one."""
        pending = self._dirty.get(subject)
        if pending is not None:
            return pending[0].event_ids()
        row = self.conn.execute(
            "SELECT id, events FROM interactions WHERE seq = ?", (seq_of(subject),)
        ).fetchone()
        return list(jsontext.loads(row[1])) if row is not None and row[0] == subject else None

    def exists(self, iid: str) -> bool:
        """Whether ``iid`` names a stored interaction, live or closed."""
        self.store.flush()
        seq = seq_of(iid)
        found = self.conn.execute("SELECT 1 FROM interactions WHERE seq = ?", (seq,)).fetchone()
        return found is not None

    def load_one(self, journal: Journal, iid: str) -> Interaction | None:
        """One interaction, live or closed, as stored."""
        found = self._load(journal, "i.seq = ?", [seq_of(iid)])
        return found[0] if found else None

    def load_live(self, journal: Journal, only: set[str] | None = None) -> list[Interaction]:
        """Interactions not yet closed (all, or those in ``only``), with parties, oldest first."""
        where, params = "i.closed = 0", [seq_of(iid) for iid in only or ()]
        if only is not None:
            where += f" AND i.seq IN ({', '.join('?' * len(params))})" if params else " AND 0"
        return self._load(journal, where, params)

    def _load(self, journal: Journal, where: str, params: list[int]) -> list[Interaction]:
        self.store.flush()
        parties: dict[str, dict[str, Party]] = {}
        for iid, name, role, connected, joined, muted, done, about in self.conn.execute(
            "SELECT p.interaction_id, p.who, p.role, p.connected, p.joined, p.muted, p.done,"
            " p.about FROM parties p JOIN interactions i ON i.id = p.interaction_id"
            f" WHERE {where} ORDER BY p.joined",
            params,
        ):
            who = intern(name)  # "@bob" is in many interactions: one string for all of them
            parties.setdefault(iid, {})[who] = Party(
                who, PartyRole(role), joined, bool(connected), bool(muted), bool(done), about
            )
        out = []
        for iid, kind, state, owner, parent, created, data, events in self.conn.execute(
            "SELECT i.id, i.kind, i.state, i.owner, i.parent, i.created, i.data, i.events"
            f" FROM interactions i WHERE {where} ORDER BY i.created, i.seq",
            params,
        ):
            row = (iid, kind, state, owner, parent, created)
            ix = _rebuild(row, jsontext.loads(data), parties.get(iid, {}), journal)
            ix.events = array("q", jsontext.loads(events)).tobytes()
            out.append(ix)
        return out

    def set_focus(self, member_id: str, interaction_id: str | None) -> None:
        """Make ``interaction_id`` the member's current interaction (None clears it)."""
        if interaction_id is None:
            self.conn.execute("DELETE FROM focus WHERE member_id = ?", (member_id,))
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO focus (member_id, interaction_id) VALUES (?, ?)",
            (member_id, interaction_id),
        )

    def focus(self) -> dict[str, str]:
        """Every member's current interaction."""
        self.store.flush()
        return dict(self.conn.execute("SELECT member_id, interaction_id FROM focus").fetchall())

    def subscribe(self, supervisor: str, agent: str, mode: str, now: float) -> None:
        """``monitor @agent next``."""
        self._followed.add(agent)
        self.conn.execute(
            "INSERT OR REPLACE INTO subscriptions (supervisor, agent, mode, at)"
            " VALUES (?, ?, ?, ?)",
            (supervisor, agent, mode, now),
        )

    def unsubscribe(self, supervisor: str, agent: str) -> bool:
        """``unmonitor @agent``; False if there was no subscription."""
        cursor = self.conn.execute(
            "DELETE FROM subscriptions WHERE supervisor = ? AND agent = ?", (supervisor, agent)
        )
        return cursor.rowcount > 0

    def subscribers(self, agent: str) -> list[tuple[str, str]]:
        """Supervisors following ``agent``, with their mode."""
        if agent not in self._followed:
            return []
        rows = self.conn.execute(
            "SELECT supervisor, mode FROM subscriptions WHERE agent = ? ORDER BY at", (agent,)
        )
        return [(s, m) for s, m in rows]


def _rebuild(
    row: tuple[str, str, str, str | None, str | None, float],
    data: dict[str, Any],
    parties: dict[str, Party],
    journal: Journal,
) -> Interaction:
    iid, kind, state, owner, parent, created = row
    ix = Interaction(
        iid,
        intern(kind),
        created,
        journal,
        customer=data["customer"],
        parent=parent,
        mode=_shared(data["mode"]),
        target=_shared(data["target"]),
        owner=_shared(owner),
        initiator=_shared(data["initiator"]),
        case=data["case"],
        parties=parties,
        disposition=_shared(data["disposition"]),
    )
    ix.offer = Offer.from_dict(data["offer"]) if data["offer"] else None
    ix.state = state
    return ix


def _shared(value: str | None) -> str | None:
    """One string object for a value many interactions repeat (a member id, a group)."""
    return None if value is None else intern(value)
