"""Making our rooms on the homeserver: desks, interaction rooms, customers' chats, lobbies.

Each is made once and kept in ``matrix_rooms`` (``rooms``), so a restart reuses it. Rooms
are invite-only except the routing lobbies, where only backline may speak: a customer who
joins ``#support`` is invited into a private chat with the routing puppet, so no customer
ever sees another's words.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from mautrix.errors import MNotFound
from mautrix.types import (
    EventType,
    RoomAlias,
    RoomCreatePreset,
    RoomDirectoryVisibility,
    RoomID,
    UserID,
)

from adapters.matrix.convert import room_name, room_topic
from adapters.matrix.rooms import (
    CUSTOMER,
    DESK,
    INTERACTION,
    LOBBY,
    Room,
    Rooms,
    customer_key,
    desk_key,
    interaction_key,
    lobby_key,
)

if TYPE_CHECKING:
    from adapters.matrix.config import MatrixConfig
    from adapters.matrix.crypto import Crypto
    from adapters.matrix.homeserver import Homeserver
    from bot.port import Port

DESK_TOPIC = "Your backline desk: type `help` (or `!bl help`) for what you can do."
LOBBY_TOPIC = "Join to chat with us: you will be invited into a private conversation."
SPEAK_LEVEL = 50  # in a lobby only backline (100) may speak


class Places:
    """Finds or makes the room for each purpose."""

    def __init__(self, port: Port, config: MatrixConfig, hs: Homeserver, rooms: Rooms) -> None:
        self.port = port
        self.config = config
        self.hs = hs
        self.rooms = rooms
        self.crypto: Crypto | None = None  # set by the adapter
        self._lock = asyncio.Lock()

    def route_puppet(self, route: str) -> str:
        """The puppet customers of ``route`` talk to: ``@backline_route_support:server``."""
        return f"@{self.config.puppet_prefix}route_{route}:{self.config.server_name}"

    def route_of_puppet(self, mxid: str) -> str | None:
        """The route a puppet id speaks for, if it is one we serve."""
        head = f"@{self.config.puppet_prefix}route_"
        tail = f":{self.config.server_name}"
        if not (mxid.startswith(head) and mxid.endswith(tail)):
            return None
        route = mxid[len(head) : -len(tail)]
        return route if route in self.config.route_list() else None

    async def learn_encryption(self, room_id: str) -> None:
        """Read whether a room we joined is encrypted (its state predates our joining)."""
        bot = self.hs.bot
        room = RoomID(room_id)
        try:
            found = await self.hs.call(lambda: bot.get_state_event(room, EventType.ROOM_ENCRYPTION))
        except MNotFound:
            return
        await self.hs.state.set_encryption_info(room, cast(Any, found))

    def _encrypted(self) -> list[dict[str, Any]]:
        """Initial state making a new room encrypted, when that is asked for and possible."""
        if not (self.config.encrypt_rooms and self.crypto is not None and self.crypto.ready):
            return []
        content = {"algorithm": "m.megolm.v1.aes-sha2"}
        return [{"type": "m.room.encryption", "state_key": "", "content": content}]

    async def _create(self, speaker: str, **options: Any) -> str:
        intent = self.hs.intent(speaker)
        if speaker != self.config.bot:
            await self.hs.call(intent.ensure_registered)
        room_id: RoomID = await self.hs.call(lambda: intent.create_room(**options))
        return str(room_id)

    async def desk(self, mxid: str) -> Room:
        """The member's desk: a DM with the bot."""
        async with self._lock:
            found = self.rooms.get(desk_key(mxid))
            if found is not None and found.open:
                return found
            room_id = await self._create(
                self.config.bot,
                name="backline",
                topic=DESK_TOPIC,
                is_direct=True,
                invitees=[UserID(mxid)],
                preset=RoomCreatePreset.TRUSTED_PRIVATE,
                initial_state=self._encrypted(),
            )
            return await self.rooms.add(
                Room(desk_key(mxid), room_id, DESK, mxid, speaker=self.config.bot)
            )

    async def adopt_desk(self, mxid: str, room_id: str) -> Room:
        """A member invited the bot into a DM: that room is their desk from now on."""
        return await self.rooms.add(
            Room(desk_key(mxid), room_id, DESK, mxid, speaker=self.config.bot)
        )

    async def interaction(self, iid: str) -> Room | None:
        """The room of ``iid`` shared by its members (made now, invite-only); None if closed."""
        key = interaction_key(iid)
        async with self._lock:
            found = self.rooms.get(key)
            if found is not None:
                return found if found.open else None
            view = self.port.interaction_view(iid, None)
            label = view.label if view is not None else iid
            name = room_name(iid, label)
            room_id = await self._create(
                self.config.bot,
                name=name,
                topic=room_topic(label, view.state if view else "new", view is None or view.live),
                preset=RoomCreatePreset.PRIVATE,
                initial_state=self._encrypted(),
            )
            return await self.rooms.add(
                Room(key, room_id, INTERACTION, iid=iid, speaker=self.config.bot, shown=name)
            )

    async def customer(self, mxid: str, route: str, room_id: str = "") -> Room:
        """A customer's private chat on ``route``: the room they opened, or one made now."""
        key = customer_key(mxid, route)
        speaker = self.route_puppet(route)
        async with self._lock:
            found = self.rooms.get(key)
            if found is not None and found.open and (not room_id or found.room_id == room_id):
                return found
            if not room_id:
                room_id = await self._create(
                    speaker,
                    name=route.replace("-", " ").title(),
                    is_direct=True,
                    invitees=[UserID(mxid)],
                    preset=RoomCreatePreset.PRIVATE,
                )
            return await self.rooms.add(Room(key, room_id, CUSTOMER, mxid, route, speaker))

    async def adopt_lobbies(self) -> None:
        """Adopt each route's alias that already names a room as its lobby.

        Such a room is ours from before (a lost database, say); the other lobbies are made
        when someone first looks their alias up.
        """
        bot = self.hs.bot
        for route in self.config.route_list():
            if self.rooms.get(lobby_key(route)) is not None:
                continue
            alias = RoomAlias(f"#{route}:{self.config.server_name}")
            try:
                found = await self.hs.call(lambda: bot.resolve_room_alias(alias))  # noqa: B023
            except MNotFound:
                continue
            room_id = found.room_id
            await self.hs.call(lambda: bot.ensure_joined(room_id))  # noqa: B023
            lobby = Room(lobby_key(route), str(room_id), LOBBY, iid=route, speaker=self.config.bot)
            await self.rooms.add(lobby)

    async def lobby(self, route: str) -> Room:
        """The public room behind ``#route:server``, where only backline speaks."""
        async with self._lock:
            found = self.rooms.get(lobby_key(route))
            if found is not None:
                return found
            levels = {"events_default": SPEAK_LEVEL, "users_default": 0}
            room_id = await self._create(
                self.config.bot,
                alias_localpart=route,
                name=route.replace("-", " ").title(),
                topic=LOBBY_TOPIC,
                preset=RoomCreatePreset.PUBLIC,
                visibility=RoomDirectoryVisibility.PUBLIC,
                power_level_override=levels,
            )
            return await self.rooms.add(
                Room(lobby_key(route), room_id, LOBBY, iid=route, speaker=self.config.bot)
            )
