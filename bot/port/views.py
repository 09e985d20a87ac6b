"""Read models for adapters: an interaction as one member sees it, a member's home."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.interaction.model import HANDLERS, SUPERVISING, Interaction
from bot.port.types import HomeView, InteractionState, InteractionView

if TYPE_CHECKING:
    from bot.core import Core


def find(core: Core, iid: str) -> Interaction | None:
    """A live interaction, or a closed one as stored."""
    return core.engine.live.get(iid) or core.engine.records.load_one(core.engine, iid)


def interaction_view(core: Core, ix: Interaction, viewer: str | None) -> InteractionView:
    """``ix`` as member ``viewer`` sees it; ``viewer`` None is a view shared by its members."""
    possible = frozenset(core.engine.specs[ix.kind].triggers(ix.state)) if ix.live else frozenset()
    offer = ix.offer
    handlers = [ix.initiator] if ix.initiator else []
    handlers += list(offer.to) if offer else []
    handlers += [p.member_id for p in ix.parties.values() if p.member_id and p.role in HANDLERS]
    base = {
        "iid": ix.id,
        "kind": ix.kind,
        "label": ix.label,
        "state": ix.state,
        "live": ix.live,
        "owner": ix.owner,
        "customer": ix.customer,
        "parent": ix.parent,
        "case": tuple(sorted(ix.case.items())),
        "parties": tuple(
            f"{p.who} ({p.role.value})" for p in ix.connected() if p.role not in SUPERVISING
        ),
        "handlers": tuple(m for m in dict.fromkeys(handlers) if m),
        "possible": possible,
        "offer_expires": offer.expires if offer else None,
    }
    if viewer is None:
        return InteractionView(
            **base,  # type: ignore[arg-type]
            offered=offer is not None and ix.state in ("queued", "offered"),
            role="consultation",
            connected=ix.state in ("active", "held"),
            done=ix.state == "closed",
        )
    party = ix.party(f"@{viewer}")
    offered = offer is not None and viewer in offer.to and ix.live
    gone = None
    if party is None and not offered:
        gone = "No longer offered to you (timed out, declined or taken)."
    return InteractionView(
        **base,  # type: ignore[arg-type]
        offered=offered,
        role=party.role.value if party else None,
        connected=bool(party and party.connected),
        done=bool(party and (party.done or (party.role not in HANDLERS and not party.connected))),
        agent=party.about if party and party.role in SUPERVISING else None,
        gone=gone,
    )


def interaction_state(ix: Interaction, viewer: str | None) -> InteractionState:
    """``ix``'s label and state, and whether ``viewer`` left it: no full view built."""
    party = ix.party(f"@{viewer}") if viewer is not None else None
    left = party is not None and not party.connected
    return InteractionState(ix.id, ix.label, ix.state, ix.live, left)


def home_view(core: Core, member_id: str) -> HomeView:
    """The member's home: presence, My Messages newest first, mailboxes, interactions."""
    member = core.directory.member(member_id)
    messages, _ = core.inbox.page(member_id)
    boxes = tuple(
        (box.id, *core.mailboxes.counts(box.id)) for box in core.mailboxes.readable(member_id)
    )
    live = core.engine.interactions_of(member_id)
    return HomeView(
        name=member.name,
        presence=core.directory.presence(member_id).describe(),
        reasons=tuple(core.policy.presence.not_ready_reasons),
        messages=tuple((m.priority, m.line(), m.status) for m in messages),
        unread=core.inbox.unread(member_id),
        mailboxes=boxes,
        interactions=tuple(f"`{ix.id}` {ix.label} — {ix.state}" for ix in live),
        live=tuple(ix.id for ix in live),
    )
