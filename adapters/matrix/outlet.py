"""Sending on Matrix (ADP-3, MSG-2, MSG-3): each commit's batch goes out as room events.

One worker sends in order, so a member reads an interaction as it happened; while the
homeserver is away the worker keeps retrying the job at its head (with backoff) and the
rest wait behind it. Each event carries a transaction id fixed when it was queued, so a
retry after a lost answer is taken once by the homeserver: delivered once, never twice.

An interaction's members share its room (``members`` keeps who is in it); what is for a
member in an interaction they are not (or no longer) in goes to their mirror of it when
they supervise it (``mirrors``), else to their desk, marked ``(i7)``. A line for several
members of one room is posted once, and a member's own words are not posted back into the
room they were written in. Customers get their own chat, from the routing puppet; nothing
private reaches a customer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mautrix.types import EventType, RoomID

from adapters.matrix.convert import content, edit_of, for_customer, for_member
from adapters.matrix.members import Members
from adapters.matrix.rooms import CUSTOMER, Room, interaction_key, mirror_key
from bot.port import Posted, new_ref, relaying

if TYPE_CHECKING:
    from adapters.matrix.crypto import Crypto
    from adapters.matrix.homeserver import Homeserver
    from adapters.matrix.places import Places
    from adapters.matrix.rooms import Rooms
    from bot.port import Batch, ChatState, Outgoing, Port, Relay

log = logging.getLogger("backline.matrix")
Job = Callable[[], Awaitable[object]]
TYPING_MS = 10_000


@dataclass(frozen=True)
class Echo:
    """A member's words being relayed from an interaction's room: not posted back there."""

    iid: str
    text: str


class Outlet:
    """The ordered send queue and what each job does."""

    def __init__(
        self, port: Port, hs: Homeserver, places: Places, rooms: Rooms, crypto: Crypto
    ) -> None:
        self.port = port
        self.crypto = crypto
        self.hs = hs
        self.places = places
        self.rooms = rooms
        self.members = Members(port, hs, places, rooms)
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.echo: Echo | None = None  # set by inbound while it relays a member's words
        self.typing_from = ""  # set by inbound while it relays typing in this room
        self.sent = 0  # events the homeserver took since start
        self.posted = Posted()  # events relays went out as, so corrections edit them (ADP-6)
        self._worker: asyncio.Task[None] | None = None
        self._busy = False

    def start(self) -> None:
        """Start the worker."""
        self._worker = asyncio.create_task(self._work(), name="matrix-outlet")

    async def stop(self, *, drain: float = 5.0) -> None:
        """Send what is queued (for at most ``drain`` seconds), then stop the worker."""
        if self._worker is None:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.drained(), drain)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def drained(self) -> None:
        """Wait until the queue is empty and nothing is being sent."""
        while not self.queue.empty() or self._busy:
            await asyncio.sleep(0.01)

    def put(self, job: Job) -> None:
        """Queue a job behind what is queued."""
        self.queue.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self.queue.get()
            self._busy = True
            try:
                await job()
            except Exception:
                log.exception("matrix: could not send ref=%s", new_ref())
            finally:
                self._busy = False

    # -- batches -----------------------------------------------------------------------------

    def send(self, batch: Batch) -> None:
        """Queue the room changes of one commit, then its messages."""
        if batch.touched:
            touched = frozenset(batch.touched)
            self.put(lambda: self.members.sync(touched))
        echo = self.echo
        messages = [m for m in batch.messages if not self._echoed(m, echo)]
        if messages:
            txns = [secrets.token_hex(12) for _ in messages]  # fixed now: a retry is the same
            relay = relaying()  # read now: the job runs after this commit's context is gone
            self.put(lambda: self.deliver(messages, txns, relay))

    def _echoed(self, message: Outgoing, echo: Echo | None) -> bool:
        if echo is None or message.to_customer or message.interaction != echo.iid:
            return False
        room = self.rooms.get(interaction_key(echo.iid))
        inside = room is not None and message.address in self.rooms.in_room(room.room_id)
        return inside and message.text.endswith(echo.text)

    async def deliver(
        self, messages: list[Outgoing], txns: list[str], relay: Relay | None = None
    ) -> None:
        """Each message to its room; one line for several members of a room goes once.

        A correction (``relay``) goes as an ``m.replace`` of the event posted for its
        original in that room, when there was one (ADP-6).
        """
        posted: set[tuple[str, str]] = set()
        for message, txn in zip(messages, txns, strict=True):
            target = await self.place_of(message)
            if target is None:
                continue
            room, body = target
            once = (room.room_id, body["body"])
            if once in posted:
                continue
            posted.add(once)
            original = self.posted.edits(relay, room.room_id, body["body"])
            if original is not None:
                await self.emit(room, edit_of(original, body), txn)
                continue
            event_id = await self.emit(room, body, txn)
            self.posted.remember(relay, room.room_id, event_id)

    async def place_of(self, message: Outgoing) -> tuple[Room, dict[str, str]] | None:
        """Where a message goes and what it says there (None: nowhere, it is private)."""
        if message.to_customer:
            body = for_customer(message.say)
            room = self.customer_room(message.address, message.via)
            return (room, body) if body is not None and room is not None else None
        body = for_member(message.say)
        iid = message.interaction
        if iid:
            room = self.rooms.get(interaction_key(iid))
            if (
                room is not None
                and room.open
                and message.address in self.rooms.in_room(room.room_id)
            ):
                return room, body
            mirror = self.rooms.get(mirror_key(iid, message.address))
            if mirror is not None and mirror.open:
                return mirror, body
            body["body"] = f"({iid}) {body['body']}"
            body["formatted_body"] = f"({iid}) {body['formatted_body']}"
        return await self.places.desk(message.address), body

    def customer_room(self, mxid: str, via: str) -> Room | None:
        """The customer's chat: the one they wrote from, else their newest."""
        room = self.rooms.of(via) if via else None
        if room is not None and room.kind == CUSTOMER:
            return room
        found = [r for r in self.rooms.by_key.values() if r.kind == CUSTOMER and r.mxid == mxid]
        return found[-1] if found else None

    def reply(self, room: Room, text: str) -> None:
        """Queue a command's reply in the room it was typed in (a notice)."""
        txn = secrets.token_hex(12)
        self.put(lambda: self.emit(room, content(text, notice=True), txn))

    async def emit(self, room: Room, body: dict[str, Any], txn: str) -> str:
        """Send one event as the room's speaker, retried until the homeserver takes it.

        Its event id.
        """
        intent = self.hs.intent(room.speaker)
        room_id = RoomID(room.room_id)
        event: Any = body  # a plain JSON content: mautrix sends dicts as they are
        kind = EventType.ROOM_MESSAGE
        if (
            self.crypto.ready
            and room.speaker == self.hs.config.bot
            and (await self.hs.state.is_encrypted(room_id))
        ):
            event, kind = await self.crypto.encrypt(room.room_id, body), EventType.ROOM_ENCRYPTED
        event_id = await self.hs.call(
            lambda: intent.send_message_event(room_id, kind, event, txn_id=txn)
        )
        self.sent += 1
        return str(event_id)

    # -- typing ------------------------------------------------------------------------------

    def typing(self, states: list[ChatState]) -> None:
        """Queue typing notifications (dropped while the homeserver is away).

        Members of the room the typing happened in see it from Matrix itself.
        """
        if not self.hs.up:
            return
        from_room = self.typing_from
        for state in states:
            self.put(self._typing_job(state, from_room))

    def _typing_job(self, state: ChatState, from_room: str) -> Job:
        return lambda: self._typing(state, from_room)

    async def _typing(self, state: ChatState, from_room: str) -> None:
        if state.to_customer:
            room = self.customer_room(state.address, state.via)
        else:
            room = self.rooms.get(interaction_key(state.interaction))
            if room is not None and state.address not in self.rooms.in_room(room.room_id):
                room = None
        if room is None or not room.open or room.room_id == from_room:
            return
        intent = self.hs.intent(room.speaker)
        timeout = TYPING_MS if state.state == "composing" else 0
        room_id = RoomID(room.room_id)
        await self.hs.call(lambda: intent.set_typing(room_id, timeout), patient=False)
