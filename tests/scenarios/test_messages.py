"""My Messages through the console: listing, reading, clearing, paging, sources, previews.

MSG-1 `messages` newest first with priority, type, time and status; `read ID|all`, `clear`.
MSG-2 system messages raised by a rule action (hold escalation) and by admins (`broadcast`).
MSG-3 every new message is pushed at once as a preview; a preview does not mark it read.

The routing fallback named in MSG-2 raises no system message in the product (a fallback
only tells the requester, see ``Offers.after_wait``), so it has no test here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.outbound import Priority, Say
from bot.port import Port
from bot.state import snapshot
from tests.support.console import Console, Recording
from tests.support.state import edited_policy

REF = re.compile(r" \(ref [0-9a-f]{6}\)$")
MEMBERS = ("alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky")
DOWN = "slack is down; messages for you there are held until it is back."


# --- helpers ------------------------------------------------------------------------------


def inbox(console: Console, member: str) -> list[tuple[int, str, str, str]]:
    """The member's stored messages, newest first: ``(id, priority, status, text)``."""
    rows = snapshot(console.core.store)["inbox"].get(member, [])
    return [(m["id"], m["priority"], m["status"], m["text"]) for m in rows]


def statuses(console: Console, member: str) -> dict[int, str]:
    """``{id: status}`` of the member's stored messages."""
    return {mid: status for mid, _, status, _ in inbox(console, member)}


def refusals(console: Console) -> list[tuple[str | None, str]]:
    """``(actor, command text)`` of every refused command logged."""
    return [(e.actor, e.data["text"]) for e in console.core.store.events(kind="refused")]


def refused(reply: str, text: str) -> None:
    """The reply is ``text`` followed by a reference id."""
    assert REF.search(reply), reply
    assert REF.sub("", reply) == text


async def broadcast_to_bob(console: Console, *texts: str) -> None:
    """Sam sends bob one normal message per text, a minute apart."""
    for text in texts:
        await console.run(f"@sam: broadcast --to @bob {text}\ntick 1m")


@asynccontextmanager
async def edited_console(tmp_path: Path, old: str, new: str) -> AsyncIterator[Console]:
    """A console on a copy of the rules with one policy line changed."""
    driver = Console(edited_policy(tmp_path, old, new), tmp_path / "db")
    try:
        yield driver
    finally:
        driver.close()


# --- MSG-1: listing, reading, clearing, paging ----------------------------------------------


async def test_messages_lists_newest_first_with_priority_type_time_status_msg_1(
    console: Console,
) -> None:
    """MSG-1: newest first; each line shows id, priority marker and name, type, time, status."""
    await console.run(
        """
        @sam: broadcast --to @bob --priority low lunch menu
        tick 1m
        @sam: broadcast --to @bob printer fixed
        tick 1m
        @sam: broadcast --to @bob --priority high queue is long
        tick 1m
        @sam: broadcast --to @bob --priority urgent fire drill now
        tick 1m
        @bob: messages read 2
        """
    )
    console.mark()
    await console.run("@bob: messages")
    assert console.last("@bob") == "\n".join(
        [
            "My Messages (3 new), newest first:",
            "  #4 ‼ urgent · broadcast · 08:03 · new — fire drill now",
            "  #3 ! high · broadcast · 08:02 · new — queue is long",
            "  #2 · normal · broadcast · 08:01 · read — printer fixed",
            "  #1 ↓ low · broadcast · 08:00 · new — lunch menu",
        ]
    )
    assert inbox(console, "bob") == [
        (4, "urgent", "new", "fire drill now"),
        (3, "high", "new", "queue is long"),
        (2, "normal", "read", "printer fixed"),
        (1, "low", "new", "lunch menu"),
    ]
    # listing marks nothing read
    assert statuses(console, "bob") == {4: "new", 3: "new", 2: "read", 1: "new"}


async def test_messages_read_id_marks_only_that_message_msg_1(console: Console) -> None:
    """MSG-1: `messages read ID` shows the message as read and marks only that one."""
    await broadcast_to_bob(console, "one", "two", "three")
    assert statuses(console, "bob") == {3: "new", 2: "new", 1: "new"}
    console.mark()
    await console.run("@bob: messages read #2")
    assert console.received("@bob") == ["#2 · normal · broadcast · 08:01 · read — two"]
    assert statuses(console, "bob") == {3: "new", 2: "read", 1: "new"}
    await console.run("@bob: messages")
    assert console.last("@bob").splitlines()[0] == "My Messages (2 new), newest first:"
    # reading it again changes nothing
    await console.run("@bob: messages read 2")
    assert statuses(console, "bob") == {3: "new", 2: "read", 1: "new"}


async def test_messages_read_shows_the_text_as_written_msg_1(console: Console) -> None:
    """MSG-1: only the status changes to read; a text that looks like a status line stays."""
    await console.run("@sam: broadcast --to @bob was · new — now done · new — ok")
    await console.run("@bob: messages read 1")
    assert (
        console.last("@bob")
        == "#1 · normal · broadcast · 08:00 · read — was · new — now done · new — ok"
    )
    assert inbox(console, "bob") == [(1, "normal", "read", "was · new — now done · new — ok")]


async def test_messages_read_all_then_clear_deletes_read_ones_only_msg_1(
    console: Console,
) -> None:
    """MSG-1: `clear` deletes read messages and keeps new ones; `read all` marks the rest."""
    await broadcast_to_bob(console, "one", "two", "three")
    await console.run("@sam: broadcast --to @alice for alice")
    console.mark()
    await console.run("@bob: messages read 1\n@bob: messages clear")
    assert console.received("@bob")[-1] == "Cleared 1 read message(s); new ones stay."
    assert inbox(console, "bob") == [(3, "normal", "new", "three"), (2, "normal", "new", "two")]

    console.mark()
    await console.run("@bob: messages read all")
    assert console.received("@bob") == ["Marked 2 message(s) read."]
    assert statuses(console, "bob") == {3: "read", 2: "read"}
    await console.run("@bob: messages read all")
    assert console.last("@bob") == "Marked 0 message(s) read."

    await console.run("@bob: messages clear\n@bob: messages")
    assert console.received("@bob")[-2:] == [
        "Cleared 2 read message(s); new ones stay.",
        "No messages.",
    ]
    assert inbox(console, "bob") == []
    # bob's reading and clearing never touched alice's inbox
    assert inbox(console, "alice") == [(4, "normal", "new", "for alice")]


async def test_messages_paging_with_page_size_2_msg_1(tmp_path: Path) -> None:
    """MSG-1: `messages.page_size: 2`: pages of two, newest first, a pointer to the next page."""
    async with edited_console(
        tmp_path, "page_size: 10                 # messages", "page_size: 2  # messages"
    ) as console:
        await broadcast_to_bob(console, "one", "two", "three", "four", "five")
        pages = {}
        for page in (1, 2, 3, 4):
            await console.run(f"@bob: messages --page {page}")
            pages[page] = console.last("@bob").splitlines()
        assert pages[1] == [
            "My Messages (5 new), newest first:",
            "  #5 · normal · broadcast · 08:04 · new — five",
            "  #4 · normal · broadcast · 08:03 · new — four",
            "More: `messages --page 2`",
        ]
        assert pages[2] == [
            "My Messages (5 new), newest first:",
            "  #3 · normal · broadcast · 08:02 · new — three",
            "  #2 · normal · broadcast · 08:01 · new — two",
            "More: `messages --page 3`",
        ]
        assert pages[3] == [
            "My Messages (5 new), newest first:",
            "  #1 · normal · broadcast · 08:00 · new — one",
        ]
        assert pages[4] == ["No messages on page 4."]
        await console.run("@bob: messages")
        assert console.last("@bob").splitlines() == pages[1]
        assert set(statuses(console, "bob").values()) == {"new"}


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("messages read 999", "You have no message #999. `messages` lists yours."),
        (
            "messages read 1",  # alice's message, not bob's
            "You have no message #1. `messages` lists yours.",
        ),
        (
            "messages read x",
            "Usage: `messages read ID` (a number from `messages`) or `messages read all`.",
        ),
        (
            "messages read 99999999999999999999",
            "Usage: `messages read ID` (a number from `messages`) or `messages read all`.",
        ),
        (
            "messages read",
            "Usage: `messages [--page N]`, `messages read ID|all`, `messages clear`.",
        ),
        (
            "messages --page 0",
            "Usage: `messages [--page N]`, `messages read ID|all`, `messages clear`.",
        ),
        (
            "messages --page 99999999999999999999",
            "Usage: `messages [--page N]`, `messages read ID|all`, `messages clear`.",
        ),
        (
            "messages delete 2",
            "Usage: `messages [--page N]`, `messages read ID|all`, `messages clear`.",
        ),
    ],
    ids=[
        "unknown",
        "someone-elses",
        "not-a-number",
        "huge",
        "no-id",
        "page-0",
        "huge-page",
        "verb",
    ],
)
async def test_messages_refusals_change_nothing_msg_1(
    console: Console, command: str, reply: str
) -> None:
    """MSG-1: a bad `messages` command is refused with a ref, logged, and changes nothing."""
    await console.run("@sam: broadcast --to @alice for alice")
    await broadcast_to_bob(console, "one", "two")
    before = snapshot(console.core.store)["inbox"]
    console.mark()
    await console.run(f"@bob: {command}")
    [answer] = console.received("@bob")
    refused(answer, reply)
    assert snapshot(console.core.store)["inbox"] == before
    assert refusals(console) == [("bob", command)]


# --- MSG-2: where system messages come from -------------------------------------------------


async def test_hold_escalation_raises_a_high_message_to_the_supervisor_msg_2(
    console: Console,
) -> None:
    """MSG-2 / RUL-3: the `escalate` action of the hold rule raises a system message to sam
    (support's supervisor) after `hold.escalate_after`; the owner is only notified."""
    await console.run(
        """
        @alice: ready
        sim call Ann @alice
        @alice: accept i1
        @alice: hold
        tick 119s
        """
    )
    assert inbox(console, "sam") == []
    console.mark()
    await console.run("tick 2s")
    text = "i1 (Ann) has been on hold for 2m; owner @alice."
    assert console.received("@sam") == [f"(!) New message #1 (escalate): {text}"]
    assert console.received("@alice") == ["(i1) i1: Ann has been on hold for 2m."]
    assert inbox(console, "sam") == [(1, "high", "new", text)]
    assert snapshot(console.core.store)["inbox"].keys() == {"sam"}
    await console.run("@sam: messages")
    assert console.last("@sam") == "\n".join(
        ["My Messages (1 new), newest first:", f"  #1 ! high · escalate · 08:02 · new — {text}"]
    )


async def test_resumed_call_raises_no_escalation_msg_2(console: Console) -> None:
    """MSG-2: resumed before the limit, no escalation message is raised."""
    await console.run(
        """
        @alice: ready
        sim call Ann @alice
        @alice: accept i1
        @alice: hold
        tick 60s
        @alice: resume
        tick 5m
        """
    )
    assert snapshot(console.core.store)["inbox"] == {}
    assert console.received("@sam", since_mark=False) == []


@pytest.mark.parametrize(
    ("options", "members", "priority", "marker"),
    [
        ("", MEMBERS, "normal", ""),
        ("--to all", MEMBERS, "normal", ""),
        ("--to group:support", ("alice", "bob", "chen", "sam"), "normal", ""),
        ("--to @bob --priority high", ("bob",), "high", "(!) "),
        ("--priority urgent --to role:supervisor", ("sam", "sky"), "urgent", "(!!) "),
        ("--priority low --to group:billing", ("dana", "eli", "sky"), "low", ""),
        ("@alice", ("alice",), "normal", ""),
        ("group:billing --priority high", ("dana", "eli", "sky"), "high", "(!) "),
    ],
    ids=[
        "default-all",
        "all",
        "group",
        "member-high",
        "role-urgent",
        "group-low",
        "first-word-member",
        "first-word-group",
    ],
)
async def test_admin_broadcast_reaches_its_audience_msg_2(
    console: Console, options: str, members: tuple[str, ...], priority: str, marker: str
) -> None:
    """MSG-2: `broadcast` by an admin stores one message per member of the audience and
    pushes each a preview with the priority marker; nobody else gets anything. A target as
    the first word works like `--to`; the reply names who received it."""
    console.mark()
    await console.run(f"@sam: broadcast {options} Team meeting at 3")
    words = options.split()
    to = words[words.index("--to") + 1] if "--to" in words else (words or ["all"])[0]
    to = "all" if to.startswith("--") else to
    names = ", ".join(f"@{m}" for m in members)
    sent = (
        f"Sent to everyone ({len(members)} members)." if to == "all" else f"Sent to {to}: {names}."
    )
    assert console.received("@sam")[0] == sent
    stored = snapshot(console.core.store)["inbox"]
    assert set(stored) == set(members)
    for number, member in enumerate(members, 1):
        assert inbox(console, member) == [(number, priority, "new", "Team meeting at 3")]
        previews = [t for t in console.received(f"@{member}") if t != sent]
        assert previews == [f"{marker}New message #{number} (broadcast): Team meeting at 3"]
    for other in set(MEMBERS) - set(members):
        assert console.received(f"@{other}") == ([sent] if other == "sam" else [])


async def test_broadcast_by_an_agent_is_refused_and_logged_msg_2(console: Console) -> None:
    """MSG-2: only admins broadcast; alice's attempt is refused with a ref, logged, not sent."""
    console.mark()
    await console.run("@alice: broadcast --priority urgent everyone go home")
    [answer] = console.received("@alice")
    refused(answer, "Only admins can use `broadcast`.")
    assert snapshot(console.core.store)["inbox"] == {}
    assert all(console.received(f"@{m}") == [] for m in MEMBERS if m != "alice")
    assert refusals(console) == [("alice", "broadcast --priority urgent everyone go home")]


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("broadcast --priority mega hi", "Priority is one of: low, normal, high, urgent."),
        ("broadcast --priority", "`--priority` needs a value."),
        (
            "broadcast --to role:janitor hi",
            "'role:janitor' is not a role; use role:agent, role:supervisor or role:admin.",
        ),
        (
            "broadcast --priority high",
            "Usage: `broadcast [TARGET] [--priority P] TEXT`, "
            "TARGET like @alice, group:billing or role:agent (default: everyone).",
        ),
        (
            "broadcast @nobody hello",
            "Nobody called @nobody is in the directory. Try `find nobody`.",
        ),
        ("broadcast group:nope hello", "There is no group called 'nope'. Try `groups`."),
    ],
    ids=["bad-priority", "no-priority", "bad-role", "no-text", "unknown-member", "unknown-group"],
)
async def test_bad_broadcast_is_refused_and_sends_nothing_msg_2(
    console: Console, command: str, reply: str
) -> None:
    """MSG-2: a malformed broadcast is refused with a ref and a way forward; nothing is sent."""
    console.mark()
    await console.run(f"@sam: {command}")
    [answer] = console.received("@sam")
    refused(answer, reply)
    assert snapshot(console.core.store)["inbox"] == {}
    assert all(console.received(f"@{m}") == [] for m in MEMBERS if m != "sam")
    assert refusals(console) == [("sam", command)]


# --- MSG-3: previews --------------------------------------------------------------------------


async def test_new_message_is_pushed_at_once_and_stays_new_until_read_msg_3(
    console: Console,
) -> None:
    """MSG-3: the preview arrives right after sam's reply, with its marker; it is a notice
    with the priority (the sound flag for rich platforms); bob's message stays new until
    `messages read`."""
    recorder = Recording("recorder", reaches_everyone=True)
    console.core.delivery.attach(recorder)
    lines = await console.run("@sam: broadcast --to @bob --priority high queue is long")
    assert lines == [
        "@sam: broadcast --to @bob --priority high queue is long",
        "[@sam] Sent to @bob: @bob.",
        "[@bob] (!) New message #1 (broadcast): queue is long",
    ]
    assert recorder.sent == [
        Say(
            "@bob",
            "New message #1 (broadcast): queue is long",
            priority=Priority.HIGH,
            notice=True,
        )
    ]
    # the preview was seen, the message is still new: in the store, the list and the count
    assert inbox(console, "bob") == [(1, "high", "new", "queue is long")]
    await console.run("@bob: messages")
    assert console.last("@bob").splitlines() == [
        "My Messages (1 new), newest first:",
        "  #1 ! high · broadcast · 08:00 · new — queue is long",
    ]
    assert inbox(console, "bob") == [(1, "high", "new", "queue is long")]
    await console.run("@bob: messages read 1\n@bob: messages")
    assert console.last("@bob").splitlines() == [
        "My Messages (0 new), newest first:",
        "  #1 ! high · broadcast · 08:00 · read — queue is long",
    ]
    assert inbox(console, "bob") == [(1, "high", "read", "queue is long")]


async def test_escalation_preview_is_pushed_when_it_is_raised_msg_3(console: Console) -> None:
    """MSG-3: a message raised by a timer (no command typed) is pushed in the same tick."""
    await console.run("@alice: ready\nsim call Ann @alice\n@alice: accept i1\n@alice: hold")
    lines = await console.run("tick 2m")
    preview = (
        "[@sam] (!) New message #1 (escalate): i1 (Ann) has been on hold for 2m; owner @alice."
    )
    assert preview in lines
    assert lines.index(preview) < lines.index("(+120s)")
    assert statuses(console, "sam") == {1: "new"}


async def test_adapter_message_preview_is_high_and_stays_new_msg_3(console: Console) -> None:
    """MSG-3 / MSG-2: an adapter going down pushes a high preview; it stays new until read."""
    console.mark()
    await Port(console.core, "slack").adapter_status(up=False)
    assert console.received("@bob") == [f"(!) New message #2 (adapter): {DOWN}"]
    assert inbox(console, "bob") == [(2, "high", "new", DOWN)]
    await console.run("@bob: messages read all")
    assert inbox(console, "bob") == [(2, "high", "read", DOWN)]
