"""Parties who went offline on their platform (INT-2).

A member who stays offline past ``routing.offline_grace`` loses the customer work they own
back to routing, as a transfer to its original target that the routing rules place; the
customer is told neutrally. A customer whose client stays offline past
``customers.offline_grace`` has their chat ended, and its members are told. The timers ride
on the interaction (``Engine.arm``), so closing it stops them; coming back cancels them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import CommandError
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.interaction.engine import Engine
    from bot.interaction.model import Interaction

MEMBER_TIMER = "owner_offline"
CUSTOMER_TIMER = "customer_offline"
ANOTHER_AGENT = "Please hold on: we are connecting you with another agent."


def member_offline(engine: Engine, member_id: str, *, offline: bool) -> list[str]:
    """Start (or, back online, cancel) the grace of the customer work the member owns."""
    grace = engine.core.policy.routing.offline_grace
    owned = [ix for ix in engine.interactions_of(member_id) if ix.owner == member_id]
    for ix in owned:
        if not ix.customer:
            continue
        if offline:
            engine.arm(ix, MEMBER_TIMER, engine.core.clock.now() + grace, _reclaim(engine, ix))
        else:
            engine.cancel(ix, MEMBER_TIMER)
    return [ix.id for ix in owned if ix.customer]


def _reclaim(engine: Engine, ix: Interaction) -> Callable[[], Awaitable[None]]:
    owner = ix.owner

    async def fire() -> None:
        if owner is not None and ix.owner == owner:
            await reclaim(engine, ix, owner)

    return fire


async def reclaim(engine: Engine, ix: Interaction, member_id: str) -> None:
    """Offer ``ix`` again through routing; ``member_id`` keeps it until someone accepts."""
    if (
        ix.offer is not None
        or not ix.target
        or "transfer" not in engine.specs[ix.kind].triggers(ix.state)
    ):
        return
    found = engine.core.directory.resolve(ix.target)
    grace = format_duration(engine.core.policy.routing.offline_grace)
    engine.event(ix, "owner_offline", {"owner": f"@{member_id}", "to": found.ref})
    await engine.fire(ix, "transfer")
    engine.lifecycle.customer_hears(ix, ANOTHER_AGENT)
    engine.tell(
        f"@{member_id}",
        f"You were offline for {grace}, so {ix.id} went back to {found.ref}.",
        ix,
    )
    await engine.offers.start(ix, "transfer", found, member_id, tried=(member_id,))
    engine.save(ix)


def customer_offline(engine: Engine, name: str, *, offline: bool) -> str | None:
    """Start (or, back online, cancel) the grace of the customer's live chat; its id."""
    ix = engine.customers.interaction_of(name)
    if ix is None:
        return None
    if not offline:
        engine.cancel(ix, CUSTOMER_TIMER)
        return ix.id
    grace = engine.core.policy.customers.offline_grace

    async def fire() -> None:
        if engine.customers.interaction_of(name) is not ix:
            return
        engine.lifecycle.members_hear(
            ix, f"{name} went offline and did not come back within {format_duration(grace)}."
        )
        try:
            await engine.customers.hang_up(name)
        except CommandError:
            return

    engine.arm(ix, CUSTOMER_TIMER, engine.core.clock.now() + grace, fire)
    return ix.id
