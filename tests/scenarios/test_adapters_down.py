"""An adapter going down and coming back (MSG-2, ADP-6).

Acceptance: killing an adapter raises a system message to every affected member, delivered
on the adapters still up, and another when it comes back; what only that adapter could
deliver waits and goes out, in order, once it is back.

Demo identities: slack for alice, bob, dana, sam; xmpp for alice, bob, chen, sam. dana is
reachable on slack only (besides the console).
"""

from __future__ import annotations

from bot.outbound import Priority, Say
from bot.port import Port
from bot.state import snapshot
from tests.support.console import Console, Recording

SLACK_MEMBERS = ("alice", "bob", "dana", "sam")
OTHERS = ("chen", "eli", "fay", "sky")
DOWN = "slack is down; messages for you there are held until it is back."
BACK = "slack is back; messages held while it was down are being delivered."


def notice(to: str, number: int, text: str, priority: Priority, kind: str = "adapter") -> Say:
    """The preview of system message ``number``."""
    return Say(f"@{to}", f"New message #{number} ({kind}): {text}", priority=priority, notice=True)


def inbox(console: Console, member: str) -> list[tuple[int, str, str, str]]:
    """The member's stored messages, newest first: ``(id, priority, status, text)``."""
    rows = snapshot(console.core.store)["inbox"].get(member, [])
    return [(m["id"], m["priority"], m["status"], m["text"]) for m in rows]


async def test_slack_down_tells_its_members_on_the_adapters_still_up_msg_2_adp_6(
    console: Console,
) -> None:
    """MSG-2 / ADP-6: slack goes down: alice, bob, dana and sam each get a high message,
    stored new and pushed on the console; nothing goes through slack while it is down;
    when it is back each gets a second message, through slack and the console."""
    slack = Recording("slack")
    console.core.delivery.attach(slack)
    console.mark()

    await Port(console.core, "slack").adapter_status(up=False)
    for number, member in enumerate(SLACK_MEMBERS, 1):
        assert console.received(f"@{member}") == [f"(!) New message #{number} (adapter): {DOWN}"]
        assert inbox(console, member) == [(number, "high", "new", DOWN)]
    for member in OTHERS:
        assert console.received(f"@{member}") == []
        assert inbox(console, member) == []
    [event] = console.core.store.events(kind="adapter")
    assert (event.subject, event.data) == ("slack", {"up": False})

    # while slack is down, work for slack members still reaches them on the console only
    await console.run("@sam: broadcast --to @dana --priority high call me")
    assert console.received("@dana")[-1] == "(!) New message #5 (broadcast): call me"
    await console.run("@alice: ready\nsim call Ann @alice")
    assert console.received("@alice")[-1] == (
        "(i1) New call from Ann. `accept i1` or `decline i1` within 20s."
    )
    assert slack.sent == []
    assert console.core.delivery.waiting == []

    console.mark()
    await Port(console.core, "slack").adapter_status(up=True)
    for number, member in enumerate(SLACK_MEMBERS, 6):
        assert console.received(f"@{member}") == [f"New message #{number} (adapter): {BACK}"]
        assert inbox(console, member)[0] == (number, "normal", "new", BACK)
    assert all(console.received(f"@{m}") == [] for m in OTHERS)
    # only the "back" messages: what the console delivered meanwhile is not sent again
    assert slack.sent == [
        notice(member, number, BACK, Priority.NORMAL)
        for number, member in enumerate(SLACK_MEMBERS, 6)
    ]
    # one commit, one batch, each notice addressed to the member's slack handle
    assert len(slack.batches) == 1
    assert slack.addresses == ["U0ALICE", "U0BOB", "U0DANA", "U0SAM"]
    assert [e.data for e in console.core.store.events(kind="adapter")] == [
        {"up": False},
        {"up": True},
    ]


async def test_message_only_slack_can_deliver_waits_until_it_is_back_msg_2_adp_6(
    console: Console,
) -> None:
    """MSG-2 / ADP-6: without the console, dana is reachable on slack only. Slack goes down:
    alice, bob and sam are told over xmpp; dana's notice and a broadcast to her wait (stored
    in her inbox all along); when slack is back they go out in order, then the "back" news."""
    console.core.delivery.detach(console.adapter)
    slack, xmpp = Recording("slack"), Recording("xmpp")
    console.core.delivery.attach(slack)
    console.core.delivery.attach(xmpp)

    await Port(console.core, "slack").adapter_status(up=False)
    assert slack.sent == []
    assert xmpp.sent == [
        notice("alice", 1, DOWN, Priority.HIGH),
        notice("bob", 2, DOWN, Priority.HIGH),
        notice("sam", 4, DOWN, Priority.HIGH),
    ]
    assert xmpp.addresses == ["alice@localhost", "bob@localhost", "sam@localhost"]
    lines = await console.run("@sam: broadcast --to @dana please call the office")
    assert lines[-1] == "[@sam] Sent to @dana: @dana."  # the reply to sam is not held
    assert slack.sent == []
    assert inbox(console, "dana") == [
        (5, "normal", "new", "please call the office"),
        (3, "high", "new", DOWN),
    ]
    assert console.core.delivery.waiting == [
        notice("dana", 3, DOWN, Priority.HIGH),
        notice("dana", 5, "please call the office", Priority.NORMAL, "broadcast"),
    ]

    xmpp.clear()
    await Port(console.core, "slack").adapter_status(up=True)
    assert slack.sent == [
        notice("dana", 3, DOWN, Priority.HIGH),
        notice("dana", 5, "please call the office", Priority.NORMAL, "broadcast"),
        notice("alice", 6, BACK, Priority.NORMAL),
        notice("bob", 7, BACK, Priority.NORMAL),
        notice("dana", 8, BACK, Priority.NORMAL),
        notice("sam", 9, BACK, Priority.NORMAL),
    ]
    assert xmpp.sent == [
        notice("alice", 6, BACK, Priority.NORMAL),
        notice("bob", 7, BACK, Priority.NORMAL),
        notice("sam", 9, BACK, Priority.NORMAL),
    ]
    assert console.core.delivery.waiting == []
    # nothing was read by being delivered: dana's three messages are all new
    assert [(i, s) for i, _, s, _ in inbox(console, "dana")] == [(8, "new"), (5, "new"), (3, "new")]


async def test_other_adapter_down_leaves_slack_members_alone_msg_2(console: Console) -> None:
    """MSG-2: matrix going down concerns alice, eli and sky only."""
    console.mark()
    await Port(console.core, "matrix").adapter_status(up=False)
    down = "matrix is down; messages for you there are held until it is back."
    assert {m: inbox(console, m) for m in snapshot(console.core.store)["inbox"]} == {
        "alice": [(1, "high", "new", down)],
        "eli": [(2, "high", "new", down)],
        "sky": [(3, "high", "new", down)],
    }
    assert console.received("@bob") == []
    assert console.received("@eli") == [f"(!) New message #2 (adapter): {down}"]
