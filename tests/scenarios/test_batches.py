"""Delivery in batches (ADP-6): each commit sends every adapter one ``Batch``.

A batch holds the messages for recipients on the adapter's platform, each addressed to the
recipient's handle there, and the ids of every interaction the commit touched, even when
no message is for that adapter (so it can refresh what it shows of them).

Demo identities: slack for alice, bob, dana, sam; chen is on xmpp and the console only.
"""

from __future__ import annotations

from bot.port import Batch
from tests.support.console import Console, Recording


async def test_each_commit_is_one_batch_addressed_to_slack_handles_adp_6(
    console: Console,
) -> None:
    """ADP-6: a chat ringing alice is one batch for slack: her offer, at U0ALICE, and i1."""
    slack = Recording("slack")
    console.core.delivery.attach(slack)
    await console.run("@alice: ready")
    assert slack.batches == []  # the reply goes to the console that asked; nothing touched

    await console.run("sim chat Ann @alice hello")
    [batch] = slack.batches
    assert isinstance(batch, Batch)
    assert batch.touched == frozenset({"i1"})
    assert [(m.address, m.to, m.interaction) for m in batch.messages] == [
        ("U0ALICE", "@alice", "i1")
    ]
    assert batch.messages[0].text.startswith("New chat from Ann")


async def test_a_commit_for_several_slack_members_is_still_one_batch_adp_6(
    console: Console,
) -> None:
    """ADP-6: a broadcast to group:support reaches slack as one batch: alice, bob and sam
    at their slack handles (chen has none)."""
    slack = Recording("slack")
    console.core.delivery.attach(slack)
    await console.run("@sam: broadcast --to group:support printer fixed")
    [batch] = slack.batches
    assert [(m.address, m.to) for m in batch.messages] == [
        ("U0ALICE", "@alice"),
        ("U0BOB", "@bob"),
        ("U0SAM", "@sam"),
    ]
    assert batch.touched == frozenset()


async def test_an_adapter_learns_of_touched_interactions_without_a_message_adp_6(
    console: Console,
) -> None:
    """ADP-6: chen's work concerns nobody on slack, yet slack hears which interaction
    changed; what is for chen goes to xmpp, at his JID."""
    slack, xmpp = Recording("slack"), Recording("xmpp")
    console.core.delivery.attach(slack)
    console.core.delivery.attach(xmpp)
    await console.run("@chen: ready\nsim chat Ben @chen hi\n@chen: accept i1")
    assert [b.messages for b in slack.batches] == [(), ()]
    assert [b.touched for b in slack.batches] == [frozenset({"i1"})] * 2
    assert [(m.address, m.interaction) for m in xmpp.batches[0].messages] == [
        ("chen@localhost", "i1")
    ]
    assert all(not m.to_customer for b in xmpp.batches for m in b.messages)  # Ben is console's
