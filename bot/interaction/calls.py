"""Internal calls between colleagues, and the one-voice-leg rule (DIR-3, GRP-3, CON-7).

``call TARGET`` is a voice interaction with no customer: the caller owns it from the start,
the target is offered it (a group, queue, routing point or skill rings one available member
with a voice endpoint, as routing chooses), and on ``accept`` both are connected. It is an
interaction like any other: history, hold, consult, transfer and conference work on it.

A member is on at most one *active* voice leg at a time: a new leg (a call, an accepted
voice offer, a resumed call) is refused while another one is active for them, and a member
connected to a live call reaches colleagues about it by ``consult``, which holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, Member, Role
from bot.errors import CommandError
from bot.interaction.model import Interaction, PartyRole

if TYPE_CHECKING:
    from bot.interaction.engine import Engine

LIVE_VOICE = frozenset({"queued", "offered", "active", "held", "recording"})


class Calls:
    """``call TARGET`` and the checks that keep each member on one active voice leg."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def call(self, me: str, found: Member | Group) -> str:
        """Call a colleague, a group, a queue, a routing point or a skill (DIR-3, GRP-3)."""
        directory = self.engine.core.directory
        if found.ref == f"@{me}":
            raise CommandError("You cannot call yourself.")
        if directory.member(me).voice is None:
            raise CommandError(f"You have no voice endpoint; `im {found.ref}` reaches them by IM.")
        if isinstance(found, Member) and found.voice is None:
            raise CommandError(
                f"{found.ref} has no voice endpoint, so they cannot be called; "
                f"`im {found.ref}` reaches them instead."
            )
        on_call = self.live_voice_of(me)
        if on_call is not None:
            raise CommandError(
                f"You are on {on_call.label}; `consult {found.ref}` to talk to them about it, "
                f"or end it first."
            )
        ix = self.engine.create("voice", initiator=me, target=found.ref)
        self.engine.set_owner(ix, me)
        self.engine.set_focus(me, ix.id)
        self.engine.core.directory.contacts.record_contact(me, found.ref)
        tried: tuple[str, ...] = (me,)
        if isinstance(found, Group):  # ring only members with a phone
            members = self.engine.offers.router.members_of(found)
            tried += tuple(m for m in members if directory.member(m).voice is None)
        note = await self.engine.offers.start(ix, "call", found, me, tried=tried)
        self.engine.save(ix)
        return f"Calling ({ix.id}): {note}" if note else ""

    async def answered(self, ix: Interaction, me: str, by: str | None) -> str:
        """The called member accepted: both are connected."""
        await self.engine.fire(ix, "accept")
        self.engine.join(ix, f"@{me}", PartyRole.MEMBER)
        if by:
            self.engine.tell(f"@{by}", f"@{me} answered {ix.label}. You are connected.", ix)
        return f"You are on {ix.label} from @{by}. `end` hangs up."

    async def not_answered(self, ix: Interaction, by: str | None, reason: str) -> None:
        """Nobody took the call: it ends and closes; the caller may ``retry`` (DIR-3)."""
        await self.engine.fire(ix, "end")
        for party in ix.connected():
            self.engine.release(ix, party.who, done=True)
        await self.engine.lifecycle.close_if_done(ix)
        if by:
            self.engine.tell(
                f"@{by}",
                f"{reason} {ix.label} did not connect; `retry {ix.target}` tries again, "
                f"or `im {ix.target}`.",
                ix,
            )
        self.engine.save(ix)

    # -- one active voice leg per member -------------------------------------------------

    def live_voice_of(self, member_id: str) -> Interaction | None:
        """A live voice interaction (call or voice consultation) the member is connected to."""
        return next(
            (ix for ix in self.engine.voice_legs(member_id) if ix.state in LIVE_VOICE), None
        )

    def active_leg(self, member_id: str, but: Interaction) -> Interaction | None:
        """Another active voice leg the member is connected to, besides ``but``."""
        legs = self.engine.voice_legs(member_id)
        return next((ix for ix in legs if ix is not but and ix.state == "active"), None)

    def check_one_leg(
        self, ix: Interaction, me: str, others: list[str] | None = None, *, but: str | None = None
    ) -> None:
        """Refuse making ``ix`` an active voice leg while someone is on another one.

        ``me`` acts; ``others`` (default: every member connected to ``ix``) are checked too,
        except ``but`` (a member about to be released, like the old owner of a transfer).
        """
        if not ix.is_voice():
            return
        members = [me, *(ix.members() if others is None else others)]
        for member_id in dict.fromkeys(m for m in members if m != but):
            self.check_free(member_id, but=ix, me=me)

    def check_free(self, member_id: str, *, but: Interaction, me: str | None = None) -> None:
        """Refuse if the member is on an active voice leg other than ``but``."""
        other = self.active_leg(member_id, but)
        if other is None:
            return
        if member_id == (me or member_id):
            raise CommandError(
                f"You are on {other.label}, and nobody is on two calls at once; "
                f"`swap` or `hold {other.id}` first."
            )
        raise CommandError(
            f"@{member_id} is on {other.label} now, and nobody is on two calls at once; "
            "try again in a moment."
        )

    def busy_on_voice(self, member_id: str) -> bool:
        """On a live voice leg in any role: not to be rung for voice work.

        Handling a call already makes a member busy (never available); only a supervisor's
        monitor, coach or barge leg does not, so only supervisors are looked at: routing
        stays O(members of the group).
        """
        member = self.engine.core.directory.data.members.get(member_id)
        if member is None or not member.has(Role.SUPERVISOR):
            return False
        return self.live_voice_of(member_id) is not None
