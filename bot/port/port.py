"""The port: everything an adapter may ask of the core, bound to the adapter's platform.

Inbound calls commit before they return, so an adapter acknowledges a platform delivery
only after what it carried is stored. Outbound, the core calls the adapter's ``send`` with
one ``Batch`` per commit. Read models are frozen views, never live core objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.clock import FakeClock
from bot.directory.presence import PresenceState
from bot.errors import CommandError
from bot.events import Command
from bot.interaction import away
from bot.interaction.model import PartyRole
from bot.interaction.talk import INTERNAL_KINDS
from bot.outbound import Priority, Say
from bot.port.edits import relayed
from bot.port.types import (
    Address,
    ChatState,
    HomeView,
    InteractionState,
    InteractionView,
    MemberInfo,
    Reply,
)
from bot.port.views import find, home_view, interaction_state, interaction_view
from bot.port.voice import Voice

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn
    from bot.interaction.model import Interaction

Respond = Callable[[Reply], Awaitable[None]]


class Port:
    """The core as one adapter sees it."""

    def __init__(self, core: Core, platform: str) -> None:
        self._core = core
        self.platform = platform
        self.store = AdapterStore(core)

    # -- inbound ---------------------------------------------------------------------

    async def command(
        self,
        sender: str,
        text: str,
        respond: Respond | None = None,
        *,
        key: str | None = None,
        context: str | None = None,
        origin: str | None = None,
        corrects: str | None = None,
    ) -> Reply:
        """A member typed ``text``; ``respond`` gets the reply after the commit.

        ``key`` is the platform's delivery id (a retry with the same key acts once),
        ``context`` the interaction the text was written in, if the platform knows it;
        ``origin`` the platform's id of the message, ``corrects`` that of the message it
        corrects (see ``bot.port.edits``).
        """

        async def answer(turn: Turn) -> None:
            if respond is not None:
                await respond(_reply(turn))

        command = Command(self.platform, sender, text, key=key, context=context)
        with relayed(self.platform, sender, origin, corrects):
            return _reply(await self._core.handle(command, answer))

    async def customer_arrived(
        self,
        address: Address,
        kind: str,
        target: str,
        text: str = "",
        *,
        display: str = "",
        case: dict[str, str] | None = None,
    ) -> str:
        """A customer opens a chat (call, email, work item) to ``target``; its id (INT-2)."""
        core = self._core

        async def arrive() -> str:
            name = core.addresses.name_of(address, display, core.clock.now())
            ix, _ = await core.engine.customers.arrive(kind, name, target, text, case)
            return ix.id

        return await core.act(arrive)

    async def customer_said(
        self,
        address: Address,
        text: str,
        *,
        origin: str | None = None,
        corrects: str | None = None,
    ) -> None:
        """The customer at ``address`` writes in their live interaction.

        ``origin`` and ``corrects`` as for ``command``: the message's platform id, and that
        of the one it corrects.
        """
        core = self._core

        async def say() -> None:
            await core.engine.customers.say(self._known(address), text)

        with relayed(self.platform, address.address, origin, corrects):
            await core.act(say)

    async def customer_left(self, address: Address) -> None:
        """The customer hung up or went away; ``CommandError`` if they had nothing live."""
        core = self._core

        async def leave() -> None:
            await core.engine.customers.hang_up(self._known(address))

        await core.act(leave)

    def customer_interaction(self, address: Address) -> str | None:
        """The live interaction of the customer at ``address``."""
        name = self._core.addresses.find(address)
        ix = self._core.engine.customers.interaction_of(name) if name else None
        return ix.id if ix is not None else None

    def _known(self, address: Address) -> str:
        """The party name of an address (a new one is added: its interaction check follows)."""
        return self._core.addresses.name_of(address, "", self._core.clock.now())

    async def presence(self, handle: str, state: PresenceState, reason: str | None = None) -> bool:
        """The member's platform presence changed; whether backline presence changed.

        Raises ``CommandError`` for a not-ready reason the policy does not list.
        """
        core = self._core
        member = core.directory.identify(self.platform, handle)
        if member is None:
            return False
        allowed = core.policy.presence.not_ready_reasons
        if reason is not None and allowed and reason not in allowed:
            raise CommandError(f"'{reason}' is not a not-ready reason here: {', '.join(allowed)}")

        async def apply() -> bool:
            now = core.directory.presence(member.id)
            if now.state == state and now.reason == reason:
                return False
            core.directory.set_presence(member.id, state, reason)
            core.store.append_event(
                core.clock.now(),
                "presence",
                actor=member.id,
                subject=member.ref,
                data={"state": state.value, "reason": reason, "platform": self.platform},
            )
            return True

        return await core.act(apply)

    async def adapter_status(self, *, up: bool) -> None:
        """The adapter lost or regained its platform (MSG-2)."""
        await self._core.adapter_changed(self.platform, up=up)

    async def member_offline(self, handle: str, *, offline: bool) -> list[str]:
        """The member went offline on this platform, or is back (INT-2).

        Past ``routing.offline_grace`` offline, the customer work they own goes back to
        routing. Returns the ids of the interactions concerned.
        """
        core = self._core
        member = core.directory.identify(self.platform, handle)
        if member is None:
            return []

        async def mark() -> list[str]:
            return away.member_offline(core.engine, member.id, offline=offline)

        return await core.act(mark)

    async def customer_offline(self, address: Address, *, offline: bool) -> str | None:
        """The customer's client went offline, or is back (INT-2).

        Past ``customers.offline_grace`` their chat ends and its members are told. Returns
        the interaction concerned.
        """
        core = self._core
        name = core.addresses.find(address)
        if name is None:
            return None

        async def mark() -> str | None:
            return away.customer_offline(core.engine, name, offline=offline)

        return await core.act(mark)

    async def notify(self, member_id: str, text: str) -> None:
        """A system message for a member, with a preview on each of their platforms (MSG-2).

        Raises ``CommandError`` for an unknown member.
        """
        core = self._core
        member = core.directory.member(member_id)

        async def raise_it() -> None:
            core.inbox.raise_message([member.id], text, kind=self.platform, priority=Priority.HIGH)

        await core.act(raise_it)

    async def chat_state(self, sender: str | Address, state: str, iid: str | None = None) -> int:
        """A party is ``composing``, ``paused`` or ``active`` in an interaction (XEP-0085).

        The party is a member (a handle; in ``iid``, else their current interaction) or a
        customer (an ``Address``).

        Every party who would hear them is told through each adapter that has an
        ``async send_chat_states(list[ChatState])``; nothing is stored, and a consultation
        or a whisper never reaches a customer. Returns how many recipients were told.
        """
        core = self._core
        found = self._speaker(sender, iid)
        speaker = found[0].party(found[1]) if found is not None else None
        if found is None or speaker is None or not speaker.connected:
            return 0
        ix = found[0]
        private = ix.kind in INTERNAL_KINDS or speaker.role is PartyRole.COACH
        states: dict[str, list[ChatState]] = {}
        for party in core.engine.talk.hearers(ix, speaker):
            if private and party.member_id is None:
                continue
            for name, out in core.delivery.route(Say(party.who, "", ix.id, private)).items():
                states.setdefault(name, []).append(
                    ChatState(state, ix.id, party.who, out.address, out.via)
                )
        told = 0
        for name, batch in states.items():
            send = getattr(core.delivery.adapters.get(name), "send_chat_states", None)
            if send is not None and name not in core.delivery.down:
                await send(batch)
                told += len(batch)
        return told

    def _speaker(self, sender: str | Address, iid: str | None) -> tuple[Interaction, str] | None:
        core = self._core
        if isinstance(sender, Address):
            name = core.addresses.find(sender)
            ix = core.engine.customers.interaction_of(name) if name else None
            return (ix, f"customer:{name}") if ix is not None else None
        member = core.directory.identify(self.platform, sender)
        if member is None:
            return None
        ix = core.engine.live.get(iid) if iid else core.engine.current(member.id)
        return (ix, f"@{member.id}") if ix is not None else None

    def knows_target(self, target: str) -> bool:
        """Whether ``target`` (``group:support``, ``@bob``) names someone in the directory."""
        try:
            self._core.directory.resolve(target)
        except CommandError:
            return False
        return True

    # -- read models -----------------------------------------------------------------

    def member(self, handle: str) -> MemberInfo | None:
        """The member behind a handle on this platform."""
        found = self._core.directory.identify(self.platform, handle)
        return self._info(found.id) if found is not None else None

    def member_by_id(self, member_id: str) -> MemberInfo:
        """A member by id; raises ``CommandError`` naming the problem."""
        return self._info(self._core.directory.member(member_id).id)

    def members(self) -> list[MemberInfo]:
        """Every member with a handle on this platform."""
        core = self._core
        ids = [m for m in core.directory.data.members if self.handle_of(m) is not None]
        return [self._info(m) for m in ids]

    def handle_of(self, member_id: str) -> str | None:
        """The member's handle on this platform."""
        return self._core.directory.identities.handles(member_id).get(self.platform)

    def _info(self, member_id: str) -> MemberInfo:
        core = self._core
        member = core.directory.member(member_id)
        presence = core.directory.presence(member_id).describe()
        roles = tuple(sorted(role.value for role in member.roles))
        return MemberInfo(member.id, member.name, self.handle_of(member_id), presence, roles)

    def interaction_view(self, iid: str, viewer: str | None) -> InteractionView | None:
        """Interaction ``iid`` as member ``viewer`` sees it (None: as its members share it)."""
        ix = find(self._core, iid)
        return interaction_view(self._core, ix, viewer) if ix is not None else None

    def interaction_state(self, iid: str, viewer: str | None) -> InteractionState | None:
        """Interaction ``iid``'s label and state, and whether ``viewer`` left it (cheap)."""
        ix = find(self._core, iid)
        return interaction_state(ix, viewer) if ix is not None else None

    def home_view(self, member_id: str) -> HomeView:
        """The member's home: presence, My Messages, mailboxes, live interactions."""
        return home_view(self._core, member_id)

    def voice(self) -> Voice:
        """Voice read models: a call's legs, members by extension (``bot.port.voice``)."""
        return Voice(self._core)

    # -- time ------------------------------------------------------------------------

    def now(self) -> float:
        """The core's clock."""
        return self._core.clock.now()

    async def tick(self, seconds: float) -> None:
        """Advance a script's fake clock; raises ``CommandError`` on the real one."""
        clock = self._core.clock
        if not isinstance(clock, FakeClock):
            raise CommandError("`tick` works in script mode only; real time passes here")
        await clock.advance(seconds)


class AdapterStore:
    """An adapter's own tables (created by its migrations) in backline's database."""

    def __init__(self, core: Core) -> None:
        self._store = core.store

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read rows."""
        return self._store.conn.execute(sql, params).fetchall()

    async def write(self, *statements: tuple[str, Sequence[Any]]) -> None:
        """Run statements in one transaction of their own, between commands."""
        async with self._store.lock:
            with self._store.transaction():
                for sql, params in statements:
                    self._store.conn.execute(sql, params)


def _reply(turn: Turn) -> Reply:
    member = turn.member.id if turn.member is not None else None
    return Reply(turn.reply, turn.outcome, member, turn.ref, turn.touched)
