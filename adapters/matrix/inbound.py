"""Events in (ADP-3): members' commands and talk, customers' chats, invites and typing.

Called by ``transactions`` for each pushed event, in order; every core call commits
before it returns, so the transaction is answered only once what it carried is stored.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from mautrix.types import Event, RoomID

from adapters.matrix.convert import (
    PLATFORM,
    customer_text,
    desk_command,
    interaction_command,
    localpart,
    route_target,
)
from adapters.matrix.events import Said, read_said
from adapters.matrix.outlet import Echo
from adapters.matrix.places import DESK_TOPIC
from adapters.matrix.rooms import CUSTOMER, DESK, INTERACTION, LOBBY, MIRROR, Room
from bot.port import Address, CommandError, Reply

if TYPE_CHECKING:
    from adapters.matrix.config import MatrixConfig
    from adapters.matrix.crypto import Crypto
    from adapters.matrix.homeserver import Homeserver
    from adapters.matrix.outlet import Outlet
    from adapters.matrix.places import Places
    from adapters.matrix.rooms import Rooms
    from bot.port import Port

log = logging.getLogger("backline.matrix")
NOT_A_MEMBER = (
    "This is backline's desk for team members. To chat with us, join {alias} or write to {puppet}."
)
ENCRYPTED = (
    "This room is end-to-end encrypted and backline cannot read it here ({why}). Invite"
    " {bot} to an unencrypted DM to use your desk."
)
EDITED_COMMAND = "A changed command is not run again; type it anew."


class Inbound:
    """Turns pushed events into core calls."""

    def __init__(
        self,
        port: Port,
        config: MatrixConfig,
        *,
        hs: Homeserver,
        places: Places,
        rooms: Rooms,
        outlet: Outlet,
        crypto: Crypto,
    ) -> None:
        self.port = port
        self.config = config
        self.hs = hs
        self.places = places
        self.rooms = rooms
        self.outlet = outlet
        self.crypto = crypto
        self.typing_now: dict[str, set[str]] = {}  # room -> who is typing
        self.told_encrypted: set[str] = set()

    def ours(self, mxid: str) -> bool:
        """Whether ``mxid`` is the bot or one of our puppets (never answered: no loops)."""
        prefix = f"@{self.config.puppet_prefix}"
        return mxid == self.config.bot or (
            mxid.startswith(prefix) and mxid.endswith(f":{self.config.server_name}")
        )

    # -- the receiver --------------------------------------------------------------------

    async def event(self, raw: dict[str, Any]) -> None:
        """One room event."""
        await self._remember_state(raw)
        kind = raw.get("type")
        sender = str(raw.get("sender", ""))
        if kind == "m.room.member":
            await self.membership(raw, sender)
            await self.crypto.member_changed(raw)
        elif self.ours(sender):
            return
        elif kind == "m.room.message":
            said = read_said(raw)
            if said is not None:
                await self.message(said)
        elif kind == "m.room.encrypted":
            await self.encrypted(raw)

    async def _remember_state(self, raw: dict[str, Any]) -> None:
        """Feed mautrix's state store (memberships, power levels, encryption)."""
        if "state_key" not in raw:
            return
        try:
            event = Event.deserialize(raw)
        except Exception:  # a state event mautrix cannot read stays unknown to it
            return
        await self.hs.state.update_state(event)

    async def ephemeral(self, raw: dict[str, Any]) -> None:
        """Typing in a room we know: relayed to the others in its interaction."""
        if raw.get("type") != "m.typing":
            return
        room_id = str(raw.get("room_id", ""))
        room = self.rooms.of(room_id)
        typing_ids = raw.get("content", {}).get("user_ids", [])
        now = {str(u) for u in typing_ids if not self.ours(str(u))}
        before = self.typing_now.get(room_id, set())
        self.typing_now[room_id] = now
        if room is None:
            return
        for mxid in sorted(now ^ before):
            state = "composing" if mxid in now else "paused"
            if room.kind == INTERACTION and mxid in self.rooms.in_room(room_id):
                self.outlet.typing_from = room_id
                try:
                    await self.port.chat_state(mxid, state, room.iid)
                finally:
                    self.outlet.typing_from = ""
            elif room.kind == CUSTOMER and mxid == room.mxid:
                await self.port.chat_state(Address(PLATFORM, mxid, room.room_id), state)

    async def device_traffic(
        self, to_device: list[dict[str, Any]], device_lists: dict[str, Any], counts: dict[str, Any]
    ) -> None:
        """Keys for encrypted rooms, pushed with the transaction: for the bot's device."""
        await self.crypto.device_traffic(to_device, device_lists, counts)

    async def user_query(self, mxid: str) -> bool:
        """A routing puppet exists (it is registered now); other ids in our space do not."""
        if self.places.route_of_puppet(mxid) is None:
            return False
        intent = self.hs.intent(mxid)
        await self.hs.call(intent.ensure_registered, patient=False)
        return True

    async def alias_query(self, alias: str) -> bool:
        """``#route:server``: its lobby is made now."""
        route = localpart(alias)
        if alias != f"#{route}:{self.config.server_name}" or route not in self.config.route_list():
            return False
        await self.places.lobby(route)
        return True

    # -- memberships ---------------------------------------------------------------------

    async def membership(self, raw: dict[str, Any], sender: str) -> None:
        """Invites to the bot or a routing puppet; joins to lobbies; customers leaving."""
        target = str(raw.get("state_key", ""))
        membership = raw.get("content", {}).get("membership")
        room_id = str(raw.get("room_id", ""))
        if membership == "invite" and target == self.config.bot and not self.ours(sender):
            await self.bot_invited(room_id, sender)
        elif membership == "invite" and not self.ours(sender):
            route = self.places.route_of_puppet(target)
            if route is not None:
                await self.puppet_invited(room_id, sender, target, route)
        elif membership == "join" and not self.ours(target):
            room = self.rooms.of(room_id)
            if room is not None and room.kind == LOBBY and self.port.member(target) is None:
                await self.places.customer(target, room.iid)
        elif membership in ("leave", "ban") and not self.ours(target):
            room = self.rooms.of(room_id)
            if room is not None and room.kind == CUSTOMER and room.mxid == target:
                await self.customer_gone(room)

    async def bot_invited(self, room_id: str, sender: str) -> None:
        """A member's DM becomes their desk; anyone else is told where to go."""
        bot = self.hs.bot
        await self.hs.call(lambda: bot.join_room_by_id(RoomID(room_id)))
        await self.places.learn_encryption(room_id)
        if self.port.member(sender) is not None:
            desk = await self.places.adopt_desk(sender, room_id)
            self.outlet.reply(desk, DESK_TOPIC)
            return
        route = self.config.route_list()[0] if self.config.route_list() else "support"
        text = NOT_A_MEMBER.format(
            alias=f"#{route}:{self.config.server_name}", puppet=self.places.route_puppet(route)
        )
        await self.hs.call(lambda: bot.send_notice(RoomID(room_id), text))
        await self.hs.call(lambda: bot.leave_room(RoomID(room_id)))

    async def puppet_invited(self, room_id: str, sender: str, puppet: str, route: str) -> None:
        """An outsider DMs a routing puppet: that room is their chat on the route."""
        intent = self.hs.intent(puppet)
        await self.hs.call(intent.ensure_registered)
        await self.hs.call(lambda: intent.join_room_by_id(RoomID(room_id)))
        if self.port.member(sender) is not None:
            text = f"You are a member here: write to {self.config.bot} for your desk."
            await self.hs.call(lambda: intent.send_notice(RoomID(room_id), text))
            await self.hs.call(lambda: intent.leave_room(RoomID(room_id)))
            return
        await self.places.customer(sender, route, room_id)

    async def customer_gone(self, room: Room) -> None:
        """The customer left their chat: it ends, and the puppet leaves too."""
        address = Address(PLATFORM, room.mxid, room.room_id)
        if self.port.customer_interaction(address) is not None:
            await self.port.customer_left(address)
        await self.rooms.update(room, open=False)
        intent = self.hs.intent(room.speaker)
        await self.hs.call(lambda: intent.leave_room(RoomID(room.room_id)), patient=False)

    # -- messages ------------------------------------------------------------------------

    async def message(self, said: Said) -> None:
        """A text in one of our rooms, by what the room is."""
        room = self.rooms.of(said.room_id)
        if room is None or not room.open:
            return
        if room.kind == CUSTOMER and said.sender == room.mxid:
            await self.customer(room, said)
        elif room.kind == DESK and said.sender == room.mxid:
            if said.edited:
                self.outlet.reply(room, EDITED_COMMAND)
                return
            await self.command(room, said, desk_command(said.body, self.config.command_prefix))
        elif (room.kind == INTERACTION and said.sender in self.rooms.in_room(room.room_id)) or (
            room.kind == MIRROR and said.sender == room.mxid
        ):
            typed = interaction_command(
                room.iid, said.body, self.config.command_prefix, edited=said.edited
            )
            said_text = typed.text.removeprefix(f"say {room.iid} ")
            echoed = said_text != typed.text and room.kind == INTERACTION  # a whisper is not
            self.outlet.echo = Echo(room.iid, said_text) if echoed else None
            try:
                await self.command(room, said, typed.text, typed.context)
            finally:
                self.outlet.echo = None

    async def command(self, room: Room, said: Said, text: str, context: str | None = None) -> None:
        """Run a member's command; the reply comes back in the same room."""
        if not text:
            return

        async def respond(reply: Reply) -> None:
            if reply.text:
                self.outlet.reply(room, reply.text)

        await self.port.command(
            said.sender,
            text,
            respond,
            key=said.event_id,
            context=context,
            origin=said.event_id,
            corrects=said.replaces,
        )

    async def customer(self, room: Room, said: Said) -> None:
        """A customer's line: open the chat, say it, or hang up (INT-2), each event once."""
        if await self.seen(said.event_id):
            return
        address = Address(PLATFORM, said.sender, room.room_id)
        text, bye = customer_text(said.body, edited=said.edited)
        live = self.port.customer_interaction(address)
        try:
            if live is None and not bye:
                member = await self.hs.state.get_member(RoomID(room.room_id), said.sender)  # type: ignore[arg-type]
                shown = member.displayname if member is not None else None
                display = shown or localpart(said.sender)
                target = route_target(room.iid)
                await self.port.customer_arrived(address, "chat", target, text, display=display)
            elif live is not None and bye:
                await self.port.customer_left(address)
            elif live is not None:
                await self.port.customer_said(
                    address, text, origin=said.event_id, corrects=said.replaces
                )
        except CommandError as exc:
            self.outlet.reply(room, f"Sorry: {exc.message}")
        await self.port.store.write(
            (
                "INSERT OR IGNORE INTO matrix_seen (event_id, at) VALUES (?, ?)",
                (said.event_id, time.time()),
            )
        )

    async def seen(self, event_id: str) -> bool:
        """Whether a customer's event was taken already (kept across restarts)."""
        rows = self.port.store.rows("SELECT 1 FROM matrix_seen WHERE event_id = ?", (event_id,))
        return bool(rows)

    async def encrypted(self, raw: dict[str, Any]) -> None:
        """An encrypted event: decrypted and read like any other.

        If it cannot be, the room is told so once, instead of silence.
        """
        room_id = str(raw.get("room_id", ""))
        if self.rooms.of(room_id) is None:
            return
        why = self.crypto.missing or "encryption is still starting"
        if self.crypto.ready:
            try:
                plain = await self.crypto.decrypt(raw)
            except Exception as exc:  # no session for it, a broken event …
                log.warning("matrix: could not decrypt %s: %s", raw.get("event_id"), exc)
                why = f"this message could not be decrypted ({type(exc).__name__})"
            else:
                said = read_said(plain) if plain is not None else None
                if said is not None:
                    await self.message(said)
                return
        room = self.rooms.of(room_id)
        if room is None or room_id in self.told_encrypted:
            return
        self.told_encrypted.add(room_id)
        self.outlet.reply(room, ENCRYPTED.format(why=why, bot=self.config.bot))
