"""Who is in each interaction's room (ADP-3): its connected members, as the core says.

After each commit that changed an interaction, its room is made if a member on Matrix now
takes part, each member who joined the interaction is invited, each whose part is over is
removed, the name and topic say what the room is now, and a closed interaction's room is
left (archived). Supervisors are kept by ``mirrors``: a barger is a member of the room.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.errors import MatrixRequestError
from mautrix.types import RoomID, UserID

from adapters.matrix.convert import room_name, room_topic
from adapters.matrix.mirrors import BARGER, Mirrors
from adapters.matrix.rooms import interaction_key

if TYPE_CHECKING:
    from adapters.matrix.homeserver import Homeserver
    from adapters.matrix.places import Places
    from adapters.matrix.rooms import Room, Rooms
    from bot.port import InteractionView, Port

log = logging.getLogger("backline.matrix")
OVER = "Your part in this interaction is over."


class Members:
    """Keeps interaction rooms' members in step with the core."""

    def __init__(self, port: Port, hs: Homeserver, places: Places, rooms: Rooms) -> None:
        self.port = port
        self.hs = hs
        self.places = places
        self.rooms = rooms
        self.mirrors = Mirrors(port, places.config, hs, rooms)

    def wanted(self, view: InteractionView) -> set[str]:
        """The Matrix ids of the members connected to the interaction now."""
        found: set[str] = set()
        if not view.live:
            return found
        for party in view.parties:
            who = party.split(" ", 1)[0]
            if who.startswith("@"):
                handle = self.port.handle_of(who[1:])
                if handle:
                    found.add(handle)
        return found

    async def sync(self, touched: frozenset[str]) -> None:
        """Bring each changed interaction's room in step."""
        for iid in sorted(touched):
            view = self.port.interaction_view(iid, None)
            if view is None:
                continue
            watches = self.mirrors.watching(view)
            await self.mirrors.sync(iid, watches)
            wanted = self.wanted(view) | {w.mxid for w in watches if w.role == BARGER}
            room = self.rooms.get(interaction_key(iid))
            if room is None and wanted:
                room = await self.places.interaction(iid)
            if room is None or not room.open:
                continue
            await self.invite(room, wanted - self.rooms.in_room(room.room_id))
            if wanted:  # an ended or closed interaction keeps its last members: archived
                await self.remove(room, self.rooms.in_room(room.room_id) - wanted)
            await self.show(room, view)

    async def invite(self, room: Room, mxids: set[str]) -> None:
        """Invite members who joined the interaction."""
        bot = self.hs.bot
        room_id = RoomID(room.room_id)
        for mxid in sorted(mxids):
            user = UserID(mxid)
            try:
                await self.hs.call(lambda: bot.invite_user(room_id, user))  # noqa: B023
            except MatrixRequestError as exc:  # already in the room, or gone from the server
                log.info("matrix: invite of %s to %s: %s", mxid, room.room_id, exc)
            await self.rooms.invited(room.room_id, mxid)

    async def remove(self, room: Room, mxids: set[str]) -> None:
        """Remove members whose part is over (they keep what they read)."""
        bot = self.hs.bot
        room_id = RoomID(room.room_id)
        for mxid in sorted(mxids):
            user = UserID(mxid)
            try:
                await self.hs.call(lambda: bot.kick_user(room_id, user, OVER))  # noqa: B023
            except MatrixRequestError as exc:
                log.info("matrix: removing %s from %s: %s", mxid, room.room_id, exc)
            await self.rooms.invited(room.room_id, mxid, present=False)

    async def show(self, room: Room, view: InteractionView) -> None:
        """Name and topic say what the room is; a closed interaction's room is left."""
        bot = self.hs.bot
        room_id = RoomID(room.room_id)
        closed = not view.live
        name = room_name(room.iid, view.label) + (" (closed)" if closed else "")
        if name != room.shown:
            topic = room_topic(view.label, view.state, view.live)
            await self.hs.call(lambda: bot.set_room_name(room_id, name))
            await self.hs.call(lambda: bot.set_room_topic(room_id, topic))
        if closed:
            await self.hs.call(lambda: bot.leave_room(room_id))
        await self.rooms.update(room, shown=name, open=not closed)
