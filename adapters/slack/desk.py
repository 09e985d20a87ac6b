"""Reading the core into what Slack shows: card views and the App Home view (no I/O)."""

from __future__ import annotations

from adapters.slack.cards import CardView, HomeView
from bot.core import Core
from bot.interaction.model import HANDLERS, SUPERVISING, Interaction


def find(core: Core, iid: str) -> Interaction | None:
    """A live interaction, or a closed one as stored."""
    return core.engine.live.get(iid) or core.engine.records.load_one(core.engine, iid)


def card_view(core: Core, ix: Interaction, viewer: str | None) -> CardView:
    """``ix`` as ``viewer`` sees it; ``viewer`` None is a thread shared by its members."""
    possible = frozenset(core.engine.specs[ix.kind].triggers(ix.state)) if ix.live else frozenset()
    offer = ix.offer
    base = {
        "iid": ix.id,
        "kind": ix.kind,
        "label": ix.label,
        "state": ix.state,
        "owner": ix.owner,
        "customer": ix.customer,
        "parent": ix.parent,
        "case": tuple(sorted(ix.case.items())),
        "parties": tuple(
            f"{p.who} ({p.role.value})" for p in ix.connected() if p.role not in SUPERVISING
        ),
        "possible": possible,
        "offer_expires": offer.expires if offer else None,
    }
    if viewer is None:
        ringing = offer is not None and ix.state in ("queued", "offered")
        return CardView(
            **base,  # type: ignore[arg-type]
            offered=ringing,
            role="consultation",
            connected=ix.state in ("active", "held"),
            done=ix.state == "closed",
        )
    party = ix.party(f"@{viewer}")
    offered = offer is not None and viewer in offer.to and ix.live
    gone = None
    if party is None and not offered:
        gone = "No longer offered to you (timed out, declined or taken)."
    return CardView(
        **base,  # type: ignore[arg-type]
        offered=offered,
        role=party.role.value if party else None,
        connected=bool(party and party.connected),
        done=bool(party and (party.done or (party.role not in HANDLERS and not party.connected))),
        agent=party.about if party and party.role in SUPERVISING else None,
        gone=gone,
    )


def home_view(core: Core, member_id: str) -> HomeView:
    """The member's App Home: presence, My Messages newest first, mailboxes, interactions."""
    member = core.directory.member(member_id)
    messages, _ = core.inbox.page(member_id)
    boxes = tuple(
        (box.id, *core.mailboxes.counts(box.id)) for box in core.mailboxes.readable(member_id)
    )
    return HomeView(
        name=member.name,
        presence=core.directory.presence(member_id).describe(),
        reasons=tuple(core.policy.presence.not_ready_reasons),
        messages=tuple((m.priority, m.line(), m.status) for m in messages),
        unread=core.inbox.unread(member_id),
        mailboxes=boxes,
        interactions=tuple(
            f"`{ix.id}` {ix.label} — {ix.state}" for ix in core.engine.interactions_of(member_id)
        ),
    )
