"""Supervisors on Matrix (SUP-1…4): a mirror room each, or a seat in the interaction's room.

``monitor @agent`` gives the supervisor a room of their own, ``i7 · monitoring alice``,
where backline posts both sides of the interaction as they happen; the power levels let
only backline speak there, so the supervisor cannot be heard. ``coach @agent`` turns the
same room into a whisper room (``i7 · coaching alice``): the supervisor may write, and the
core passes what they write to the agent alone. ``barge @agent`` makes the supervisor a
member of the interaction's room itself, so ``members`` invites them and the mirror goes.
When they stop supervising, or the interaction closes, the mirror is removed: the
supervisor is asked to leave and backline leaves it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mautrix.errors import MatrixRequestError
from mautrix.types import RoomCreatePreset, RoomID, UserID

from adapters.matrix.rooms import MIRROR, Room, mirror_key

if TYPE_CHECKING:
    from adapters.matrix.config import MatrixConfig
    from adapters.matrix.homeserver import Homeserver
    from adapters.matrix.rooms import Rooms
    from bot.port import InteractionView, Port

log = logging.getLogger("backline.matrix")
MIRRORED = frozenset({"monitor", "coach"})  # roles that watch from a mirror room
BARGER = "barger"  # a role that sits in the interaction's room
SPEAK_LEVEL = 50  # in a mirror only backline (100), and a coach, reach this
VERBS = {"monitor": "monitoring", "coach": "coaching"}
ENDED = "You no longer supervise this interaction."


@dataclass(frozen=True)
class Watch:
    """One supervisor of an interaction, on Matrix."""

    mxid: str
    role: str  # monitor, coach, barger
    agent: str  # the agent's member id


def mirror_name(iid: str, watch: Watch) -> str:
    """``i7 · monitoring alice``, or ``i7 · coaching alice``."""
    return f"{iid} · {VERBS[watch.role]} {watch.agent}"


def speak_level(watch: Watch) -> int:
    """The supervisor's power level in their mirror: enough to write only while coaching."""
    return SPEAK_LEVEL if watch.role == "coach" else 0


def mirror_levels(watch: Watch) -> dict[str, Any]:
    """Power levels a mirror is made with (backline, its creator, keeps all power)."""
    return {
        "users": {watch.mxid: speak_level(watch)},
        "users_default": 0,
        "events_default": SPEAK_LEVEL,
        "state_default": 100,
        "invite": 100,
        "kick": 100,
        "ban": 100,
        "redact": 100,
        "events": {},
    }


class Mirrors:
    """Keeps supervisors' mirror rooms in step with the core."""

    def __init__(self, port: Port, config: MatrixConfig, hs: Homeserver, rooms: Rooms) -> None:
        self.port = port
        self.config = config
        self.hs = hs
        self.rooms = rooms

    def watching(self, view: InteractionView) -> list[Watch]:
        """The Matrix members supervising the interaction now (none once it is over)."""
        if not view.live:
            return []
        found: list[Watch] = []
        for member in self.port.members():
            seen = self.port.interaction_view(view.iid, member.id)
            if (
                seen is None
                or member.handle is None
                or not seen.connected
                or seen.role not in (*MIRRORED, BARGER)
            ):
                continue
            found.append(Watch(member.handle, seen.role, seen.agent or ""))
        return found

    def of(self, iid: str) -> list[Room]:
        """The open mirrors of an interaction."""
        return [
            r for r in self.rooms.by_key.values() if r.kind == MIRROR and r.iid == iid and r.open
        ]

    async def sync(self, iid: str, watches: list[Watch]) -> None:
        """A mirror for each monitor and coach, set for their role; the others removed."""
        kept: set[str] = set()
        for watch in watches:
            if watch.role in MIRRORED:
                room = await self.mirror(iid, watch)
                kept.add(room.key)
        for room in self.of(iid):
            if room.key not in kept:
                await self.remove(room)

    async def mirror(self, iid: str, watch: Watch) -> Room:
        """The supervisor's mirror of ``iid``, made now or switched to their role."""
        bot = self.hs.bot
        name = mirror_name(iid, watch)
        found = self.rooms.get(mirror_key(iid, watch.mxid))
        if found is not None and found.open:
            if found.shown != name:
                room_id = RoomID(found.room_id)
                levels = await self.hs.call(
                    lambda: bot.get_power_levels(room_id, ignore_cache=True)
                )
                levels.set_user_level(UserID(watch.mxid), speak_level(watch))
                await self.hs.call(lambda: bot.set_power_levels(room_id, levels))
                await self.hs.call(lambda: bot.set_room_name(room_id, name))
                found = await self.rooms.update(found, shown=name)
            return found
        created: RoomID = await self.hs.call(
            lambda: bot.create_room(
                name=name,
                topic=f"{VERBS[watch.role].capitalize()} {watch.agent} on {iid}.",
                preset=RoomCreatePreset.PRIVATE,
                invitees=[UserID(watch.mxid)],
                power_level_override=mirror_levels(watch),
            )
        )
        room = await self.rooms.add(
            Room(
                mirror_key(iid, watch.mxid),
                str(created),
                MIRROR,
                watch.mxid,
                iid,
                speaker=self.config.bot,
                shown=name,
            )
        )
        await self.rooms.invited(room.room_id, watch.mxid)
        return room

    async def remove(self, room: Room) -> None:
        """The supervisor's part is over: they are asked out, and backline leaves."""
        bot = self.hs.bot
        room_id = RoomID(room.room_id)
        user = UserID(room.mxid)
        try:
            await self.hs.call(lambda: bot.kick_user(room_id, user, ENDED))
        except MatrixRequestError as exc:  # they left already
            log.info("matrix: removing %s from %s: %s", room.mxid, room.room_id, exc)
        await self.rooms.invited(room.room_id, room.mxid, present=False)
        await self.hs.call(lambda: bot.leave_room(room_id))
        await self.rooms.update(room, open=False)
