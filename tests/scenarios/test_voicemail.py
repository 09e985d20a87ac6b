"""Voicemail through the console: indicators, sessions, PINs, shared read state, retention.

MSG-4 `mailbox` shows new/old counts of the own and group boxes, right after every change.
MSG-5 `voicemail [MAILBOX]` is an internal interaction: next / play / keep / delete / end,
      after a PIN where `voicemail.require_pin`.
MSG-6 a group mailbox's read state is shared.
TRF-6 a voice transfer to an unavailable member, and a support caller nobody took, land in
      a mailbox.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.state import snapshot
from tests.support.console import RULES, Console
from tests.support.state import edited_policy, stored

REF = re.compile(r" \(ref [0-9a-f]{6}\)$")
MENU = "`next`, `play`, `keep`, `delete` or `end`"


# --- helpers ------------------------------------------------------------------------------


def counts(console: Console, box: str) -> tuple[int, int]:
    """``(new, old)`` of a mailbox as stored."""
    stored = snapshot(console.core.store)["mailboxes"][box]
    return stored["new"], stored["old"]


async def mailbox_lines(console: Console, member: str) -> list[str]:
    """What `mailbox` shows the member, without the heading."""
    await console.run(f"@{member}: mailbox")
    lines = console.last(f"@{member}").splitlines()
    assert lines[0] == "Mailboxes (new / old):"
    return [line.strip() for line in lines[1:]]


async def leave(console: Console, caller: str, box: str, *words: str, seconds: int = 10) -> None:
    """``caller`` calls ``vm:box``, says ``words`` (one line each), talks ``seconds``, hangs up."""
    said = "".join(f"sim say {caller} {w}\n" for w in words)
    await console.run(f"sim call {caller} vm:{box}\n{said}tick {seconds}s\nsim hangup {caller}")


def refused(reply: str, text: str) -> None:
    """The reply is ``text`` followed by a reference id."""
    assert REF.search(reply), reply
    assert REF.sub("", reply) == text


def refusals(console: Console) -> list[tuple[str | None, str, str]]:
    """``(actor, command text, reason)`` of every refused command logged."""
    return [
        (e.actor, e.data["text"], e.data["reason"])
        for e in console.core.store.events(kind="refused")
    ]


@asynccontextmanager
async def edited_console(tmp_path: Path, old: str, new: str) -> AsyncIterator[Console]:
    """A console on a copy of the rules with one policy line changed."""
    driver = Console(edited_policy(tmp_path, old, new), tmp_path / "db")
    try:
        yield driver
    finally:
        driver.close()


# --- MSG-4: the message-waiting indicator ----------------------------------------------------


@pytest.mark.parametrize(
    ("member", "boxes"),
    [
        ("alice", ["alice: 0 new, 0 old", "support (group): 0 new, 0 old"]),
        ("sam", ["sam: 0 new, 0 old", "support (group): 0 new, 0 old"]),
        ("dana", ["dana: 0 new, 0 old"]),
    ],
    ids=["support-agent", "support-supervisor", "billing-agent"],
)
async def test_mailbox_lists_own_and_group_boxes_msg_4(
    console: Console, member: str, boxes: list[str]
) -> None:
    """MSG-4: the own box first, then the boxes of the member's groups (as member or
    supervisor); never a box they may not read."""
    assert await mailbox_lines(console, member) == boxes


async def test_counts_change_when_a_message_arrives_and_when_it_is_played_msg_4(
    console: Console,
) -> None:
    """MSG-4: the indicator moves when the caller hangs up (not before) and when it is heard."""
    await console.run("sim call Zed vm:support\nsim say Zed please call me back\ntick 20s")
    # still recording: nothing deposited yet
    assert await mailbox_lines(console, "alice") == [
        "alice: 0 new, 0 old",
        "support (group): 0 new, 0 old",
    ]
    await console.run("sim hangup Zed")
    assert counts(console, "support") == (1, 0)
    for member in ("alice", "bob"):
        assert await mailbox_lines(console, member) == [
            f"{member}: 0 new, 0 old",
            "support (group): 1 new, 0 old ⚑",
        ]
    await console.run("@bob: voicemail support\n@bob: next")
    assert counts(console, "support") == (1, 0)  # selecting is not hearing
    await console.run("@bob: play")
    assert counts(console, "support") == (0, 1)
    assert await mailbox_lines(console, "alice") == [
        "alice: 0 new, 0 old",
        "support (group): 0 new, 1 old",
    ]


async def test_counts_after_deposit_play_keep_delete_and_restart_msg_4(tmp_path: Path) -> None:
    """MSG-4 / OPS-2: counts are right after each change, and the same after a restart."""
    console = Console(RULES, tmp_path / "db")
    try:
        for caller in ("Zed", "Yan", "Xia"):
            await leave(console, caller, "support", f"this is {caller}")
        assert counts(console, "support") == (3, 0)
        await console.run("@bob: voicemail support\n@bob: next\n@bob: play")
        assert counts(console, "support") == (2, 1)
        await console.run("@bob: next\n@bob: keep")
        assert console.last("@bob") == "Kept message #2."
        assert counts(console, "support") == (1, 2)
        await console.run("@bob: next\n@bob: delete")
        assert console.last("@bob") == "Deleted message #3."
        assert counts(console, "support") == (0, 2)
        await console.run("@bob: end")
        assert console.last("@bob") == "Closed i4; support now has 0 new and 2 old messages."
    finally:
        console.close()

    console = Console(RULES, tmp_path / "db")
    try:
        assert counts(console, "support") == (0, 2)
        assert await mailbox_lines(console, "chen") == [
            "chen: 0 new, 0 old",
            "support (group): 0 new, 2 old",
        ]
        await leave(console, "Wes", "support", "after the restart")
        assert await mailbox_lines(console, "sam") == [
            "sam: 0 new, 0 old",
            "support (group): 1 new, 2 old ⚑",
        ]
        await console.run("@sam: voicemail support\n@sam: next\n@sam: delete\n@sam: end")
        assert counts(console, "support") == (0, 2)
        assert snapshot(console.core.store)["mailboxes"]["support"] == {"new": 0, "old": 2}
    finally:
        console.close()


# --- MSG-5: the voicemail session -------------------------------------------------------------


async def test_voicemail_session_shows_caller_time_duration_and_text_msg_5(
    console: Console,
) -> None:
    """MSG-5: `voicemail support` opens an internal interaction; `next` names the caller,
    `play` gives caller, time, duration and the words; `end` closes it."""
    await leave(console, "Zed", "support", "please call me back", "about order 7", seconds=42)
    console.mark()
    await console.run("@bob: voicemail support")
    assert console.received("@bob") == [
        f"i2: mailbox support has 1 new and 0 old messages. {MENU}."
    ]
    assert stored(console, "i2")["kind"] == "voicemail"
    assert stored(console, "i2")["state"] == "open"
    assert stored(console, "i2")["owner"] == "bob"

    console.mark()
    await console.run("@bob: next\n@bob: play")
    assert console.received("@bob") == [
        "Message #1 from Zed (new). `play` it.",
        "#1 from Zed at 2027-01-15 08:00, 42s (new)",
        "please call me back",
        "about order 7",
    ]
    console.mark()
    await console.run("@bob: next\n@bob: end")
    assert console.received("@bob") == [
        f"No more messages in support. {MENU}.",
        "Closed i2; support now has 0 new and 1 old messages.",
    ]
    assert stored(console, "i2")["state"] == "closed"
    # the session belongs to bob alone: no customer, nobody else told
    assert [p["who"] for p in stored(console, "i2")["parties"]] == ["@bob"]
    assert console.received("@alice") == []


async def test_voicemail_without_a_box_opens_your_own_msg_5(console: Console) -> None:
    """MSG-5: `voicemail` alone opens the member's personal mailbox."""
    await leave(console, "Zed", "bob", "bob, it is Zed")
    await leave(console, "Yan", "support", "for the team")
    console.mark()
    await console.run("@bob: voicemail\n@bob: next\n@bob: play")
    assert console.received("@bob") == [
        f"i3: mailbox bob has 1 new and 0 old messages. {MENU}.",
        "Message #1 from Zed (new). `play` it.",
        "#1 from Zed at 2027-01-15 08:00, 10s (new)",
        "bob, it is Zed",
    ]
    assert counts(console, "bob") == (0, 1)
    assert counts(console, "support") == (1, 0)


async def test_keep_marks_old_and_delete_removes_msg_5(console: Console) -> None:
    """MSG-5: `keep` keeps a message as old without playing it; `delete` removes it for good."""
    await leave(console, "Zed", "support", "first")
    await leave(console, "Yan", "support", "second")
    console.mark()
    await console.run("@alice: voicemail support\n@alice: next\n@alice: keep")
    assert console.received("@alice")[-2:] == [
        "Message #1 from Zed (new). `play` it.",
        "Kept message #1.",
    ]
    assert counts(console, "support") == (1, 1)
    await console.run("@alice: next\n@alice: delete\n@alice: play")
    assert console.received("@alice")[-3:-1] == [
        "Message #2 from Yan (new). `play` it.",
        "Deleted message #2.",
    ]
    refused(console.last("@alice"), "No message is selected; `next` moves to the next one.")
    assert counts(console, "support") == (0, 1)
    await console.run("@alice: end\n@alice: voicemail support\n@alice: next")
    assert console.last("@alice") == "Message #1 from Zed (old). `play` it."


async def test_pin_required_msg_5(tmp_path: Path) -> None:
    """MSG-5: with `voicemail.require_pin: true` the session starts locked: a wrong PIN is
    refused, nothing is playable until `pin` with the PIN set by `mailbox pin`."""
    async with edited_console(tmp_path, "require_pin: false", "require_pin: true") as console:
        await leave(console, "Zed", "alice", "call me")
        console.mark()
        await console.run("@alice: voicemail")
        assert console.received("@alice") == [
            "i2: the alice mailbox has no PIN yet; set one with `mailbox pin NNNN alice`, "
            "then `end` and start again."
        ]
        await console.run("@alice: end\n@alice: mailbox pin 1234")
        assert console.last("@alice") == "The PIN of the alice mailbox is set."

        console.mark()
        await console.run("@alice: voicemail")
        assert console.received("@alice") == ["i3: enter the PIN of the alice mailbox: `pin NNNN`."]
        assert stored(console, "i3")["state"] == "locked"
        await console.run("@alice: next")
        refused(
            console.last("@alice"), "Can't next i3 voicemail: it is locked. Possible now: `end`."
        )
        await console.run("@alice: pin 4321")
        refused(console.last("@alice"), "Wrong PIN; try again.")
        assert stored(console, "i3")["state"] == "locked"
        assert counts(console, "alice") == (1, 0)

        console.mark()
        await console.run("@alice: pin 1234\n@alice: next\n@alice: play")
        assert console.received("@alice") == [
            f"i3: mailbox alice has 1 new and 0 old messages. {MENU}.",
            "Message #1 from Zed (new). `play` it.",
            "#1 from Zed at 2027-01-15 08:00, 10s (new)",
            "call me",
        ]
        assert stored(console, "i3")["state"] == "open"
        assert counts(console, "alice") == (0, 1)
        assert [r[1] for r in refusals(console)] == ["next", "pin 4321"]


async def test_pin_of_a_group_box_and_bad_pins_msg_5(tmp_path: Path) -> None:
    """MSG-5: a group member sets the group box's PIN; a short PIN or someone else's box is
    refused."""
    async with edited_console(tmp_path, "require_pin: false", "require_pin: true") as console:
        await console.run("@bob: mailbox pin 12")
        refused(console.last("@bob"), "Usage: `mailbox pin NNNN [MAILBOX]` with 4 to 8 digits.")
        await console.run("@bob: mailbox pin 1234 alice")
        refused(console.last("@bob"), "You may not set the PIN of the alice mailbox.")
        await console.run("@dana: mailbox pin 1234 support")
        refused(console.last("@dana"), "You may not set the PIN of the support mailbox.")
        await console.run("@bob: mailbox pin 5678 support")
        assert console.last("@bob") == "The PIN of the support mailbox is set."
        # the PIN bob set opens the box for chen too, and alice's own box is untouched
        await console.run("@chen: voicemail support\n@chen: pin 5678")
        assert console.last("@chen") == f"i1: mailbox support has 0 new and 0 old messages. {MENU}."
        await console.run("@alice: voicemail")
        assert console.last("@alice").startswith("i2: the alice mailbox has no PIN yet")


HINT = "Start a voicemail session first: `voicemail [MAILBOX]`."


@pytest.mark.parametrize("command", ["next", "play", "keep", "delete", "pin 1234"])
async def test_session_commands_outside_a_session_are_refused_with_a_hint_msg_5(
    console: Console, command: str
) -> None:
    """MSG-5: without a voicemail session (none at all, or only a call), the refusal says
    how to start one, and nothing changes."""
    await leave(console, "Zed", "alice", "hello")
    await console.run(f"@alice: {command}")
    refused(console.last("@alice"), HINT)
    await console.run(f"@alice: ready\nsim call Ann @alice\n@alice: accept i2\n@alice: {command}")
    refused(console.last("@alice"), HINT)
    await console.run(f"@alice: voicemail\n@alice: end\n@alice: {command}")
    refused(console.last("@alice"), HINT)
    assert counts(console, "alice") == (1, 0)
    assert [(actor, text) for actor, text, _ in refusals(console)] == [("alice", command)] * 3


# --- MSG-6 and access ---------------------------------------------------------------------------


async def test_group_mailbox_read_state_is_shared_msg_6(console: Console) -> None:
    """MSG-6: bob plays a support message; it is old for alice, chen and sam at once."""
    await leave(console, "Zed", "support", "hello support")
    await console.run("@alice: voicemail support\n@alice: next")
    assert console.last("@alice") == "Message #1 from Zed (new). `play` it."
    await console.run("@bob: voicemail support\n@bob: next\n@bob: play\n@bob: end")
    for member in ("alice", "chen", "sam"):
        assert (await mailbox_lines(console, member))[-1] == "support (group): 0 new, 1 old"
    # alice's open session sees bob's hearing too
    await console.run("@alice: play")
    assert console.last("@alice").splitlines()[0] == "#1 from Zed at 2027-01-15 08:00, 10s (old)"
    assert counts(console, "support") == (0, 1)


@pytest.mark.parametrize(
    ("member", "box"),
    [("alice", "bob"), ("dana", "support"), ("sam", "dana"), ("eli", "support")],
    ids=["personal", "other-group", "supervisor-not-own", "other-group-2"],
)
async def test_mailbox_of_someone_else_is_refused_and_logged_msg_5(
    console: Console, member: str, box: str
) -> None:
    """MSG-5: a member cannot open another member's box nor a box of a group they are not
    in; the refusal is clear, logged, opens nothing and leaves the messages new."""
    await leave(console, "Zed", box, "private words")
    await console.run(f"@{member}: voicemail {box}")
    refused(console.last(f"@{member}"), f"You may not read the {box} mailbox.")
    assert refusals(console) == [
        (member, f"voicemail {box}", f"You may not read the {box} mailbox.")
    ]
    assert [i["kind"] for i in snapshot(console.core.store)["interactions"]] == ["voice"]
    assert counts(console, box) == (1, 0)
    assert all(box not in line for line in await mailbox_lines(console, member))


async def test_unknown_mailbox_is_refused_msg_5(console: Console) -> None:
    """MSG-5: a mailbox that does not exist is refused with a pointer to `mailbox`."""
    await console.run("@bob: voicemail nosuch")
    refused(console.last("@bob"), "There is no mailbox 'nosuch'. `mailbox` lists yours.")
    assert snapshot(console.core.store)["interactions"] == []


# --- TRF-6 and group fallback -------------------------------------------------------------------


async def test_voice_transfer_to_a_not_ready_member_lands_in_their_mailbox_trf_6(
    console: Console,
) -> None:
    """TRF-6 / MSG-4: bob is not ready; alice's transfer leaves Ann's call in bob's mailbox
    with Ann's name and words; bob's indicator shows it; the support box is untouched."""
    await console.run(
        """
        @bob: ready
        @bob: notready lunch
        @alice: ready
        sim call Ann @alice
        @alice: accept i1
        sim say Ann my router is broken
        """
    )
    assert counts(console, "bob") == (0, 0)
    console.mark()
    await console.run("@alice: transfer @bob")
    assert console.received("customer:Ann") == [
        "(i1) Nobody is free to take this right now, so your message was left for Bob Baker; "
        "we will get back to you."
    ]
    assert counts(console, "bob") == (1, 0)
    assert counts(console, "support") == (0, 0)
    assert await mailbox_lines(console, "bob") == [
        "bob: 1 new, 0 old ⚑",
        "support (group): 0 new, 0 old",
    ]
    console.mark()
    await console.run("@bob: voicemail\n@bob: next\n@bob: play")
    assert console.received("@bob")[1:] == [
        "Message #1 from Ann (new). `play` it.",
        "#1 from Ann at 2027-01-15 08:00, 0s (new)",
        "Ann: my router is broken",
    ]
    assert counts(console, "bob") == (0, 1)


async def test_waiting_support_caller_lands_in_the_support_mailbox_after_30s_trf_6(
    console: Console,
) -> None:
    """GRP-3 / TRF-6 / MSG-4: nobody in support is ready; after `routing.wait_for_agent`
    (30 s) Carl's call is left in the support mailbox, which every support reader sees."""
    await console.run("sim call Carl group:support\nsim say Carl my invoice is wrong\ntick 29s")
    assert counts(console, "support") == (0, 0)
    console.mark()
    await console.run("tick 1s")
    assert console.received("customer:Carl") == [
        "(i1) Nobody is free to take this right now, so your message was left for Support; "
        "we will get back to you."
    ]
    assert counts(console, "support") == (1, 0)
    for member in ("alice", "bob", "chen", "sam"):
        assert (await mailbox_lines(console, member))[-1] == "support (group): 1 new, 0 old ⚑"
    assert await mailbox_lines(console, "dana") == ["dana: 0 new, 0 old"]
    await console.run("@sam: voicemail support\n@sam: next\n@sam: play")
    assert console.last("@sam").splitlines() == [
        "#1 from Carl at 2027-01-15 08:00, 30s (new)",
        "Carl: my invoice is wrong",
    ]


# --- retention ---------------------------------------------------------------------------------


async def test_voicemail_older_than_keep_days_is_deleted_msg_4(tmp_path: Path) -> None:
    """MSG-4: with `voicemail.keep_days: 1` the hourly sweep deletes a message once it is
    more than a day old; younger ones stay."""
    async with edited_console(
        tmp_path,
        "keep_days: 30                 # days a voicemail",
        "keep_days: 1  # days a voicemail",
    ) as console:
        await leave(console, "Zed", "support", "old news")
        await console.run("tick 23h")
        await leave(console, "Yan", "support", "fresh news")
        assert counts(console, "support") == (2, 0)
        await console.run("tick 1h")  # Zed left it 24 h - 10 s ago: kept
        assert counts(console, "support") == (2, 0)
        await console.run("tick 1h")  # 25 h after Zed called
        assert counts(console, "support") == (1, 0)
        await console.run("@bob: voicemail support\n@bob: next")
        assert console.last("@bob") == "Message #2 from Yan (new). `play` it."
        [event] = console.core.store.events(kind="retention")
        assert event.data == {"voicemails": 1, "messages": 0}


async def test_read_messages_older_than_keep_days_are_deleted_msg_1(tmp_path: Path) -> None:
    """MSG-1: with `messages.keep_days: 1` read messages go after a day; new ones stay."""
    async with edited_console(
        tmp_path, "keep_days: 30                 # days a system", "keep_days: 1  # days a system"
    ) as console:
        await console.run(
            "@sam: broadcast --to @bob read me\n"
            "@sam: broadcast --to @bob keep me new\n"
            "@bob: messages read 1\n"
            "tick 2h\n"
            "@sam: broadcast --to @bob read later\n"
            "@bob: messages read 3"
        )
        await console.run("tick 23h")  # 25 h after #1 and #2, 23 h after #3
        assert snapshot(console.core.store)["inbox"]["bob"] == [
            {"id": 3, "priority": "normal", "status": "read", "text": "read later"},
            {"id": 2, "priority": "normal", "status": "new", "text": "keep me new"},
        ]
        await console.run("@bob: messages")
        assert console.last("@bob").splitlines() == [
            "My Messages (1 new), newest first:",
            "  #3 · normal · broadcast · 10:00 · read — read later",
            "  #2 · normal · broadcast · 08:00 · new — keep me new",
        ]
        await console.run("tick 2h")  # #3 is now more than a day old too
        assert snapshot(console.core.store)["inbox"]["bob"] == [
            {"id": 2, "priority": "normal", "status": "new", "text": "keep me new"},
        ]
        assert [e.data for e in console.core.store.events(kind="retention")] == [
            {"voicemails": 0, "messages": 1},
            {"voicemails": 0, "messages": 1},
        ]
