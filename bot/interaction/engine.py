"""The live interactions: machines, triggers, persistence, timers, focus and member load.

Every change goes through ``fire`` (a machine transition) or an operation in
``operations``; each ends with ``save``, which writes the row and its parties inside the
caller's transaction. Nothing here awaits I/O.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from transitions import MachineError

from bot.clock import Timer
from bot.directory.presence import Presence, PresenceState
from bot.errors import CommandError
from bot.interaction.calls import Calls
from bot.interaction.consults import Consults
from bot.interaction.customers import Customers
from bot.interaction.lifecycle import TIMED_ACW, Lifecycle
from bot.interaction.machines import InteractionMachine, MachineSpec
from bot.interaction.model import HANDLERS, Interaction, Party, PartyRole
from bot.interaction.offers import Offers
from bot.interaction.queues import Queues
from bot.interaction.records import Records
from bot.interaction.supervision import Supervision
from bot.interaction.talk import Talk
from bot.interaction.transfers import Transfers
from bot.interaction.voicemail import VoicemailSessions
from bot.outbound import Say

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger("backline.interaction")


class Engine:
    """Owns every live interaction and the one machine per kind they are models of."""

    def __init__(self, core: Core, specs: dict[str, MachineSpec]) -> None:
        self.core = core
        self.records = Records(core.store)
        core.store.defer(self.records)
        self.specs = specs
        self.machines = {kind: InteractionMachine(spec) for kind, spec in specs.items()}
        self.live: dict[str, Interaction] = {}
        self.touched: set[str] = set()  # changed in the open transaction
        self.listeners: list[Callable[[str, Interaction], None]] = []
        self._focus: dict[str, str] = {}  # member → the interaction in focus
        self._focused: dict[str, dict[str, None]] = {}  # interaction id → members it is focus of
        # Indexes, so no operation scans every live interaction (50k live stay cheap):
        # "@bob"/"customer:Ann" → ids with that party; a dict of str keys, unlike a set, is
        # left alone by the garbage collector (one set per customer: 50k objects to scan)
        self._by_party: dict[str, dict[str, None]] = {}
        self._offered: dict[str, Interaction] = {}  # saved with an offer (re-checked on read)
        # "@bob" → kind → live interactions of that kind he is connected to
        self._connected: dict[str, dict[str, int]] = {}
        # "@bob" → what his connected legs count against (a consultation: its mode) → how many
        self._load: dict[str, dict[str, int]] = {}
        # "@bob" → ids of the live interactions he is connected to now (is_busy, voice legs):
        # an agent who never marks done keeps many live ones he has left, never walked here
        self._connected_to: dict[str, dict[str, None]] = {}
        self._consults: dict[str, dict[str, None]] = {}  # interaction id → its consultations
        self._timers: dict[str, dict[str, Timer]] = {}  # id → timer name → timer
        self.free_since: dict[str, float] = {}
        self.offers = Offers(self)
        self.talk = Talk(self)
        self.lifecycle = Lifecycle(self)
        self.transfers = Transfers(self)
        self.consults = Consults(self)
        self.supervision = Supervision(self)
        self.customers = Customers(self)
        self.voicemail = VoicemailSessions(self)
        self.calls = Calls(self)
        self.queues = Queues(self)
        core.metrics.watch_work(self.queues.counts, self.queues.states)

    # -- loading and saving ---------------------------------------------------------

    def restore(self, only: set[str] | None = None) -> None:
        """Rebuild live interactions from the store and re-arm their timers.

        On start every live interaction is read (after a crash too); after a rolled-back
        command only those it touched (``only``) are read again.
        """
        for iid in list(self.live) if only is None else only:
            if iid in self.live:
                ix = self.live.pop(iid)
                self._unindex(ix)
                self.machines[ix.kind].remove_model(ix)
                self.cancel_timers(ix)
        if only is None:  # everything is read again: so are the indexes
            self._by_party, self._offered, self._connected, self._consults = {}, {}, {}, {}
            self._connected_to, self._load = {}, {}
        for ix in self.records.load_live(self, only):
            self.machines[ix.kind].add_model(ix, initial=ix.state)
            self.live[ix.id] = ix
            self._index(ix)
            if ix.offer is not None:
                self.arm(ix, "offer", ix.offer.expires, self.offers.expiry(ix))
        self._focus = self.records.focus()
        self._focused = {}
        for member_id, iid in self._focus.items():
            self._focused.setdefault(iid, {})[member_id] = None
        self.touched.clear()
        if only is None:
            self.resume_after_call_work()

    def resume_after_call_work(self) -> None:
        """Timed after-call work still ends on time after a restart (INT-4, OPS-2)."""
        directory = self.core.directory
        for member_id in directory.members_where(_in_after_call_work):
            presence = directory.presence(member_id)
            timed, _, seconds = (presence.reason or "").partition(" ")
            if timed == TIMED_ACW:
                length = float(seconds) if seconds else self.core.policy.interaction.after_call_work
                left = presence.since + length - self.core.clock.now()
                self.schedule_ready(member_id, max(0.0, left))

    def unplaceable(self, specs: dict[str, MachineSpec]) -> list[str]:
        """Live interactions in a state the new machines lack (a reload would strand them)."""
        return [
            f"{ix.id} is {ix.state}, a state {ix.kind}.yaml no longer has"
            for ix in self.live.values()
            if ix.state not in specs[ix.kind].states
        ]

    def reload_machines(self, specs: dict[str, MachineSpec]) -> None:
        """Swap in new machines, moving every live interaction over in its state (RUL-5)."""
        for ix in self.live.values():
            self.machines[ix.kind].remove_model(ix)
            self.cancel_timers(ix)
        for machine in self.machines.values():
            machine.retire()
        self.specs = specs
        self.machines = {kind: InteractionMachine(spec) for kind, spec in specs.items()}
        self.live.clear()
        self.restore()  # fresh models, bound to the new machines, timers re-armed

    def recount_load(self, members: Iterable[str] | None = None) -> None:
        """Busy flags from the interactions members are in: ``members``, or all who may be.

        Only a member in a live interaction, or marked busy now, can need a change: at
        100,000 members the others are never looked at.
        """
        directory = self.core.directory
        if members is None:
            busy = directory.members_where(_busy)
            members = {*busy, *(who[1:] for who in self._by_party if who.startswith("@"))}
        for member_id in members:
            if member_id in directory.data.members:
                directory.set_busy(member_id, self.is_busy(member_id))

    def members_in(self, iids: Iterable[str]) -> set[str]:
        """Members who are parties of the live interactions ``iids``."""
        return {
            who[1:]
            for iid in iids
            if (ix := self.live.get(iid)) is not None
            for who in ix.parties
            if who.startswith("@")
        }

    def state_changed(self, interaction: Interaction, source: str, trigger: str) -> None:
        """Journal hook: each change of state is an event (INT-5)."""
        if source == interaction.state:
            self.touched.add(interaction.id)
            return
        self.event(interaction, "state", {"from": source, "to": interaction.state, "by": trigger})

    def event(
        self, ix: Interaction, kind: str, data: dict[str, object], actor: str | None = None
    ) -> None:
        """Append an event about ``ix`` to the log; its row keeps where (``Interaction.events``)."""
        self.touched.add(ix.id)
        now = self.core.clock.now()
        ix.logged(self.core.store.append_event(now, kind, actor=actor, subject=ix.id, data=data))
        self.records.save(ix, now)

    def notify(self, name: str, ix: Interaction) -> None:
        """Tell listeners (the trigger rules) that ``name`` happened to ``ix``."""
        for listener in self.listeners:
            listener(name, ix)

    def save(self, ix: Interaction) -> None:
        """Persist ``ix``; a closed interaction leaves its machine and the live set."""
        self.touched.add(ix.id)
        self.records.save(ix, self.core.clock.now())
        if ix.offer is not None and ix.live:
            self._offered[ix.id] = ix
        else:
            self._offered.pop(ix.id, None)
        if not ix.live and ix.id in self.live:
            del self.live[ix.id]
            self._unindex(ix)
            self.machines[ix.kind].remove_model(ix)
            self.cancel_timers(ix)
            for member_id in list(self._focused.get(ix.id, ())):
                self.set_focus(member_id, None)

    def _index(self, ix: Interaction) -> None:
        for who, party in ix.parties.items():
            self._by_party.setdefault(who, {})[ix.id] = None
            if party.connected:
                self._count(who, ix, 1)
        if ix.offer is not None:
            self._offered[ix.id] = ix
        if ix.kind == "consultation" and ix.parent:
            self._consults.setdefault(ix.parent, {})[ix.id] = None

    def _unindex(self, ix: Interaction) -> None:
        for who, party in ix.parties.items():
            if party.connected:
                self._count(who, ix, -1)
            _forget(self._by_party, who, ix.id)
        self._offered.pop(ix.id, None)
        if ix.parent:
            _forget(self._consults, ix.parent, ix.id)

    def _count(self, who: str, ix: Interaction, step: int) -> None:
        """One more (``step`` 1) or one fewer (-1) connected leg of ``who``: on ``ix``."""
        _add(self._connected, who, ix.kind, step)
        _add(self._load, who, ix.mode if ix.kind == "consultation" and ix.mode else ix.kind, step)
        if step > 0:
            self._connected_to.setdefault(who, {})[ix.id] = None
        else:
            _forget(self._connected_to, who, ix.id)

    def set_mode(self, cx: Interaction, mode: str) -> None:
        """A consultation changes medium; its legs now count against ``mode``'s capacity."""
        connected = [who for who, party in cx.parties.items() if party.connected]
        for who in connected:
            self._count(who, cx, -1)
        cx.mode = mode
        for who in connected:
            self._count(who, cx, 1)
            member_id = cx.parties[who].member_id
            if member_id:  # a voice leg makes its member busy (DIR-2)
                self.refresh_load(member_id)

    # -- creating and triggering -------------------------------------------------

    def create(self, kind: str, **fields: object) -> Interaction:
        """A new interaction in its machine's initial state."""
        now = self.core.clock.now()
        ix = Interaction(self.records.next_id(), kind, now, self, **fields)  # type: ignore[arg-type]
        ix.transcript = ()  # nothing said yet: kept from the first line (Talk.said)
        self.machines[kind].add_model(ix)
        self.live[ix.id] = ix
        self._index(ix)
        self.records.save(ix, now)  # its id is taken for good once this commits
        self.event(
            ix,
            "created",
            {
                "kind": kind,
                "customer": ix.customer,
                "parent": ix.parent,
                "target": ix.target,
                "mode": ix.mode,
            },
            actor=ix.initiator,
        )
        return ix

    async def fire(self, ix: Interaction, trigger: str, *, action: str | None = None) -> None:
        """Run a machine trigger; an impossible one becomes a refusal naming the state."""
        spec = self.specs[ix.kind]
        if trigger not in spec.triggers(ix.state):
            raise CommandError(self.impossible(ix, action or trigger))
        try:
            moved = await ix.trigger(trigger)
        except MachineError:
            raise CommandError(self.impossible(ix, action or trigger)) from None
        if not moved:
            raise CommandError(self.impossible(ix, action or trigger))

    def impossible(self, ix: Interaction, action: str) -> str:
        """Why ``action`` cannot happen to ``ix`` now."""
        allowed = dict.fromkeys(
            PUBLIC_TRIGGERS[t]
            for t in self.specs[ix.kind].triggers(ix.state)
            if t in PUBLIC_TRIGGERS
        )
        hint = f" Possible now: {', '.join(f'`{a}`' for a in allowed)}." if allowed else ""
        return f"Can't {action} {ix.label}: it is {ix.state}.{hint}"

    # -- parties and load -------------------------------------------------------------

    def join(self, ix: Interaction, who: str, role: PartyRole) -> Party:
        """Connect ``who`` with ``role`` (rejoining keeps the same party record)."""
        party = ix.parties.get(who)
        if party is None:
            who = sys.intern(who)  # one "@bob" for all his interactions
            party = ix.parties[who] = Party(who, role, self.core.clock.now(), connected=False)
            self._by_party.setdefault(who, {})[ix.id] = None
        if not party.connected:  # a new leg starts unmuted (CNF-2)
            party.muted = False
            if self.live.get(ix.id) is ix:
                self._count(who, ix, 1)
        party.role, party.connected, party.done = role, True, False
        if party.member_id:
            self.refresh_load(party.member_id)
        self.event(ix, "joined", {"who": who, "role": role.value})
        return party

    def release(self, ix: Interaction, who: str, *, done: bool = False) -> None:
        """Disconnect ``who`` (their own Mark Done still to come unless ``done``)."""
        party = ix.parties.get(who)
        if party is None or not party.connected:
            return
        party.connected = False
        if self.live.get(ix.id) is ix:
            self._count(who, ix, -1)
        party.done = done or party.role not in HANDLERS
        self.event(ix, "left", {"who": who, "role": party.role.value})
        if party.member_id:
            self.refresh_load(party.member_id)

    def set_owner(self, ix: Interaction, member_id: str) -> None:
        """Make ``member_id`` the one owner; a previous owner stays a party as a member."""
        for party in ix.parties.values():
            if party.role is PartyRole.OWNER and party.who != f"@{member_id}":
                party.role = PartyRole.MEMBER
        self.join(ix, f"@{member_id}", PartyRole.OWNER)
        ix.owner = member_id
        self.event(ix, "owner", {"owner": f"@{member_id}"})

    def interactions_of(self, member_id: str, *, connected: bool = True) -> list[Interaction]:
        """Live interactions where the member is a (connected) party, oldest first."""
        return sorted(self._legs(member_id, connected=connected), key=_age)

    def _legs(self, member_id: str, *, connected: bool = True) -> Iterator[Interaction]:
        """``interactions_of`` in no order (nothing sorted when order does not matter)."""
        who = f"@{member_id}"
        for iid in (self._connected_to if connected else self._by_party).get(who, ()):
            yield self.live[iid]  # both indexes are exact (the stateful test checks them)

    def voice_legs(self, member_id: str) -> Iterator[Interaction]:
        """Live calls and voice consultations the member is connected to, in no order."""
        return (ix for ix in self._legs(member_id) if ix.is_voice())

    def connected_count(self, member_id: str, kind: str | None = None) -> int:
        """How many live interactions (of ``kind``) the member is connected to (routing)."""
        kinds = self._connected.get(f"@{member_id}", {})
        return sum(kinds.values()) if kind is None else kinds.get(kind, 0)

    def consultations_of(self, iid: str) -> list[Interaction]:
        """Live consultations about the interaction ``iid``, oldest first."""
        found = [self.live[c] for c in self._consults.get(iid, ()) if c in self.live]
        return sorted(found, key=_age)

    def focused_on(self, iid: str) -> list[str]:
        """Members whose current interaction is ``iid``."""
        return list(self._focused.get(iid, ()))

    def of_party(self, who: str) -> list[Interaction]:
        """Live interactions ``who`` (``@bob``, ``customer:Ann``) ever joined, oldest first."""
        found = [self.live[iid] for iid in self._by_party.get(who, ()) if iid in self.live]
        return sorted(found, key=_age)

    def with_offers(self) -> list[Interaction]:
        """Live interactions with an offer ringing or waiting, oldest first."""
        return sorted(self._with_offers(), key=_age)

    def ringing_members(self) -> set[str]:
        """Members an offer rings now: one pass over the offers, in no order."""
        return {m for ix in self._with_offers() if ix.offer is not None for m in ix.offer.to}

    def _with_offers(self) -> Iterator[Interaction]:
        return (
            ix
            for ix in self._offered.values()
            if ix.offer is not None and self.live.get(ix.id) is ix
        )

    def is_busy(self, member_id: str) -> bool:
        """On a voice interaction, or at capacity for a kind (DIR-2: busy is derived).

        The counts of connected legs answer most members without a walk: with no voice leg
        among them, and every kind under capacity counting every role, the member is not
        busy.
        """
        load = self._load.get(f"@{member_id}")
        if load is None:
            return False
        if "voice" not in load:
            capacity = self._capacity
            if all(n < capacity.get(kind, 1) or kind == "voicemail" for kind, n in load.items()):
                return False
        return self.busy_by_walk(member_id)

    @property
    def _capacity(self) -> Mapping[str, int]:
        capacity: Mapping[str, int] = self.core.policy.routing.capacity  # type: ignore[assignment]
        return capacity

    def busy_by_walk(self, member_id: str) -> bool:
        """``is_busy`` from each connected leg's role, kind and state (the exact rule)."""
        capacity, counts = self._capacity, dict[str, int]()
        who, live = f"@{member_id}", self.live
        for iid in self._connected_to.get(who, ()):
            ix = live[iid]
            party = ix.parties[who]
            if party.role not in HANDLERS or ix.kind == "voicemail":
                continue
            if ix.is_voice() and ix.state != "wrapup":
                return True
            kind = ix.mode if ix.kind == "consultation" and ix.mode else ix.kind
            counts[kind] = counts.get(kind, 0) + 1
            if counts[kind] >= capacity.get(kind, 1):
                return True
        return False

    def refresh_load(self, member_id: str) -> None:
        """Update the member's busy flag (and so group counts) from their interactions."""
        busy = self.is_busy(member_id)
        before = self.core.directory.presence(member_id).busy
        if before and not busy:
            self.free_since[member_id] = self.core.clock.now()
        self.core.directory.set_busy(member_id, busy)

    # -- focus ----------------------------------------------------------------------

    def focus_of(self, member_id: str) -> str | None:
        """The id of the member's current interaction, as set."""
        return self._focus.get(member_id)

    def set_focus(self, member_id: str, iid: str | None) -> None:
        """Make ``iid`` the member's current interaction."""
        before = self._focus.pop(member_id, None)
        if before is not None:
            _forget(self._focused, before, member_id)
        if iid is not None:
            self._focus[member_id] = iid
            self._focused.setdefault(iid, {})[member_id] = None
        self.records.set_focus(member_id, iid)

    def current(self, member_id: str) -> Interaction | None:
        """The member's current interaction, else their most recent live one."""
        iid = self._focus.get(member_id)
        if iid in self.live and self.live[iid].party(f"@{member_id}"):
            return self.live[iid]
        return max(self._legs(member_id, connected=False), key=_age, default=None)

    def pick(self, member_id: str, iid: str | None) -> Interaction:
        """The interaction a command names, or the current one; refusals say why."""
        if iid is not None:
            ix = self.live.get(iid.lower())
            if ix is None or ix.party(f"@{member_id}") is None:
                raise CommandError(f"You have no live interaction {iid}. `list` shows yours.")
            return ix
        ix = self.current(member_id)
        if ix is None:
            raise CommandError("You have no live interaction. `list` shows yours.")
        return ix

    # -- messages and timers ---------------------------------------------------------

    def tell(
        self, to: str, text: str, ix: Interaction | None = None, *, private: bool = False
    ) -> None:
        """Queue a message; consultation and coaching content never goes to a customer."""
        if private and to.startswith("customer:"):
            log.error("private content kept from %s (%s)", to, ix.id if ix else "-")
            return
        self.core.emit(Say(to, text, ix.id if ix else None, private))

    def arm(
        self, ix: Interaction, name: str, when: float, fire: Callable[[], Awaitable[None]]
    ) -> None:
        """(Re)start the ``name`` timer of ``ix``; it runs ``fire`` as its own transaction."""
        self.cancel(ix, name)
        if math.isinf(when):  # waiting until someone is ready: no deadline (GRP-3)
            return
        iid = ix.id

        async def run() -> None:
            self._drop_timer(iid, name)
            if self.live.get(iid) is ix:
                await self.core.run_timer(fire)

        self._timers.setdefault(iid, {})[name] = self.core.clock.call_at(when, run)

    def schedule_ready(self, member_id: str, seconds: float) -> None:
        """After-call work ends by itself after ``seconds`` (INT-4)."""
        directory = self.core.directory
        since = directory.presence(member_id).since  # this spell of after-call work only

        async def ready() -> None:
            presence = directory.presence(member_id)
            if presence.state is PresenceState.AFTER_CALL_WORK and presence.since == since:
                directory.set_presence(member_id, PresenceState.READY)
                self.tell(f"@{member_id}", "After-call work is over; you are ready.")

        async def run() -> None:
            await self.core.run_timer(ready)

        self.core.clock.call_at(self.core.clock.now() + seconds, run)

    def triggers_on_hold(self, ix: Interaction) -> None:
        """Fire ``interaction.hold_too_long`` if ``ix`` stays on hold (RUL-3 escalation)."""
        after = self.core.policy.hold.escalate_after
        if after <= 0:
            return

        async def check() -> None:
            if ix.state == "held":
                self.notify("interaction.hold_too_long", ix)

        self.arm(ix, "hold", self.core.clock.now() + after, check)

    def cancel(self, ix: Interaction, name: str) -> None:
        """Stop one timer of ``ix``."""
        timer = self._drop_timer(ix.id, name)
        if timer is not None:
            timer.cancel()

    def cancel_timers(self, ix: Interaction) -> None:
        """Stop every timer of ``ix``."""
        for timer in self._timers.pop(ix.id, {}).values():
            timer.cancel()

    def _drop_timer(self, iid: str, name: str) -> Timer | None:
        """Forget one timer (it ran or is being cancelled); the timer, if there was one."""
        timers = self._timers.get(iid)
        if timers is None:
            return None
        timer = timers.pop(name, None)
        if not timers:
            del self._timers[iid]
        return timer


def _forget(index: dict[str, dict[str, None]], key: str, value: str) -> None:
    """Take ``value`` out of ``index[key]``, and the key with its last value."""
    values = index.get(key)
    if values is not None:
        values.pop(value, None)
        if not values:
            del index[key]


def _add(counts: dict[str, dict[str, int]], key: str, kind: str, step: int) -> None:
    """Count ``step`` more of ``kind`` under ``key``; a count (and key) at zero goes."""
    kinds = counts.setdefault(key, {})
    kinds[kind] = kinds.get(kind, 0) + step
    if not kinds[kind]:
        del kinds[kind]
        if not kinds:
            del counts[key]


def _age(ix: Interaction) -> tuple[float, int, str]:
    """Oldest first, as the store orders them (ids grow with creation)."""
    return ix.created, len(ix.id), ix.id


# Machine triggers a member sets off, by the command that does it; the others (ring, record,
# transferred, supervise...) are the engine's own and never named in a refusal.
PUBLIC_TRIGGERS = {
    "accept": "accept",
    "decline": "decline",
    "hold": "hold",
    "resume": "resume",
    "consult": "consult",
    "transfer": "transfer",
    "conference": "conference",
    "talk": "say",
    "end": "end",
    "done": "done",
    "leave": "leave",
}


def _in_after_call_work(presence: Presence) -> bool:
    return presence.state is PresenceState.AFTER_CALL_WORK


def _busy(presence: Presence) -> bool:
    return presence.busy
