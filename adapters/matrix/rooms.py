"""The rooms backline made or joined, by what they are (``matrix_rooms``), cached in memory.

A restarted backline reads them back, so each member's desk, each interaction's room and
each customer's chat is reused, never made again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.port import AdapterStore

DESK = "desk"
INTERACTION = "ix"
CUSTOMER = "customer"
LOBBY = "lobby"
MIRROR = "mirror"  # a supervisor's read-only view of an interaction (SUP-1, SUP-2)


@dataclass(frozen=True)
class Room:
    """One of our rooms."""

    key: str
    room_id: str
    kind: str  # desk, ix, customer, lobby, mirror
    mxid: str = ""  # the member, customer or supervisor it is for
    iid: str = ""  # ix: the interaction; customer: the route
    speaker: str = ""  # who speaks there for backline
    shown: str = ""  # the name last set
    open: bool = True


def desk_key(mxid: str) -> str:
    """The key of a member's desk."""
    return f"{DESK}:{mxid}"


def interaction_key(iid: str) -> str:
    """The key of an interaction's room."""
    return f"{INTERACTION}:{iid}"


def customer_key(mxid: str, route: str) -> str:
    """The key of a customer's chat on a route."""
    return f"{CUSTOMER}:{mxid}:{route}"


def lobby_key(route: str) -> str:
    """The key of a routing lobby."""
    return f"{LOBBY}:{route}"


def mirror_key(iid: str, mxid: str) -> str:
    """The key of a supervisor's mirror of an interaction."""
    return f"{MIRROR}:{iid}:{mxid}"


class Rooms:
    """``matrix_rooms`` by key and by room id."""

    def __init__(self, store: AdapterStore) -> None:
        self.store = store
        self.by_key: dict[str, Room] = {}
        self.by_id: dict[str, Room] = {}
        self.members: dict[str, set[str]] = {}  # room id -> who we invited (and kept)

    def open(self) -> None:
        """Read every room (on start)."""
        rows = self.store.rows(
            "SELECT key, room_id, kind, mxid, iid, speaker, shown, open FROM matrix_rooms"
        )
        for key, room_id, kind, mxid, iid, speaker, shown, is_open in rows:
            self._keep(Room(key, room_id, kind, mxid, iid, speaker, shown, bool(is_open)))
        for room_id, mxid in self.store.rows("SELECT room_id, mxid FROM matrix_members"):
            self.members.setdefault(str(room_id), set()).add(str(mxid))

    def _keep(self, room: Room) -> None:
        old = self.by_key.get(room.key)
        if old is not None and old.room_id != room.room_id:
            self.by_id.pop(old.room_id, None)
        self.by_key[room.key] = room
        self.by_id[room.room_id] = room

    def get(self, key: str) -> Room | None:
        """A room by key."""
        return self.by_key.get(key)

    def of(self, room_id: str) -> Room | None:
        """A room by id."""
        return self.by_id.get(room_id)

    def in_room(self, room_id: str) -> set[str]:
        """Who we invited into a room and have not removed."""
        return self.members.get(room_id, set())

    async def invited(self, room_id: str, mxid: str, *, present: bool = True) -> None:
        """Record that ``mxid`` was invited into (or removed from) a room."""
        if present:
            sql = "INSERT OR IGNORE INTO matrix_members (room_id, mxid) VALUES (?, ?)"
            self.members.setdefault(room_id, set()).add(mxid)
        else:
            sql = "DELETE FROM matrix_members WHERE room_id = ? AND mxid = ?"
            self.members.get(room_id, set()).discard(mxid)
        await self.store.write((sql, (room_id, mxid)))

    async def add(self, room: Room) -> Room:
        """Keep a new room (replacing one under the same key)."""
        await self.store.write(
            ("DELETE FROM matrix_rooms WHERE key = ? OR room_id = ?", (room.key, room.room_id)),
            (
                "INSERT INTO matrix_rooms (key, room_id, kind, mxid, iid, speaker, shown, open)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    room.key,
                    room.room_id,
                    room.kind,
                    room.mxid,
                    room.iid,
                    room.speaker,
                    room.shown,
                    int(room.open),
                ),
            ),
        )
        self._keep(room)
        return room

    async def update(self, room: Room, *, shown: str | None = None, open: bool = True) -> Room:
        """Record the name shown and whether the room is still in use."""
        new = replace(room, shown=room.shown if shown is None else shown, open=open)
        await self.store.write(
            (
                "UPDATE matrix_rooms SET shown = ?, open = ? WHERE key = ?",
                (new.shown, int(new.open), new.key),
            )
        )
        self._keep(new)
        return new
