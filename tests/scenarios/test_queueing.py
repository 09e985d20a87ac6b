"""Email and work items queue until someone is ready (GRP-3, INT-3): no 30s failure, arrival
order, their age shown; calls and chats keep their short wait and fallback."""

from __future__ import annotations

from bot.interaction.model import Interaction
from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import live, stored


async def test_emails_wait_for_a_member_in_arrival_order_with_their_age_grp_3(
    console: Console,
) -> None:
    """GRP-3: three emails, nobody ready; an hour later none failed or went to voicemail;
    alice, once ready, is offered them oldest first, each with how long it waited."""
    await console.run(
        "sim email Eve group:support Invoice missing\ntick 1m\n"
        "sim workitem Wes group:support Review refund 42\ntick 1m\n"
        "sim email Fred group:support Address change\ntick 1h"
    )
    assert live(console) == ["i1", "i2", "i3"]
    assert [stored(console, i)["state"] for i in ("i1", "i2", "i3")] == ["queued"] * 3
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 0, "old": 0}
    assert console.received("customer:Eve") == ["(i1) Please hold, we are finding someone for you."]
    assert not [e for e in console.core.store.events(kind="offer_failed")]

    console.mark()
    await console.run("@alice: ready")
    assert console.received("@alice") == [
        "You are ready.",
        "(i1) New email from Eve via group:support: “Invoice missing”. "
        "`accept i1` or `decline i1` within 20s. It waited 1h2m.",
    ]
    console.mark()
    await console.run("@alice: accept")
    assert console.received("@alice")[-1] == (
        "(i2) New workitem from Wes via group:support: “Review refund 42”. "
        "`accept i2` or `decline i2` within 20s. It waited 1h1m."
    )
    await console.run("@alice: accept")
    assert console.received("@alice")[-1].startswith("(i3) New email from Fred")


async def test_an_email_waits_past_the_chat_wait_and_then_fails_only_by_rule_grp_3(
    console: Console,
) -> None:
    """GRP-3: a chat arriving with it still goes to support's voicemail after 30s; the email
    is still queued."""
    await console.run(
        "sim email Eve group:support Invoice\nsim chat Ann group:support hi\ntick 31s"
    )
    assert stored(console, "i1")["state"] == "queued"
    assert stored(console, "i2")["state"] == "closed"
    assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 1, "old": 0}


async def test_explain_says_an_email_waits_until_someone_is_ready_grp_5(
    console: Console,
) -> None:
    """GRP-5: `transfer group:billing --explain` on an email says it would wait, not fail."""
    await console.run("@alice: ready\nsim email Eve @alice Invoice\n@alice: accept")
    console.mark()
    await console.run("@alice: transfer group:billing --explain")
    assert console.received("@alice") == [
        "group:billing: nobody ready now; it would wait until someone is ready."
    ]


async def test_a_member_becoming_ready_looks_at_the_queue_once_grp_3(console: Console) -> None:
    """GRP-3 at scale: with 300 emails waiting, eli's `ready` rings him with the oldest after
    one look at the waiting work (not one per waiting item: a freeze with a long queue)."""
    for n in range(300):
        await console.run(f"sim email C{n} group:billing note {n}")
    engine = console.core.engine
    looks = 0  # passes over the waiting work: sorted, or for who is ringing
    with_offers, ringing_members = engine.with_offers, engine.ringing_members

    def sorted_pass() -> list[Interaction]:
        nonlocal looks
        looks += 1
        return with_offers()

    def ringing_pass() -> set[str]:
        nonlocal looks
        looks += 1
        return ringing_members()

    engine.with_offers = sorted_pass  # type: ignore[method-assign]
    engine.ringing_members = ringing_pass  # type: ignore[method-assign]
    console.mark()
    await console.run("@eli: ready")
    assert console.received("@eli")[0] == "You are ready."
    assert console.received("@eli")[1].startswith("(i1) New email from C0 via group:billing")
    assert looks <= 4, looks
