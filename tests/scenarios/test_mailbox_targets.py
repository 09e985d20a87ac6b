"""`vm:MAILBOX` as a target (TRF-6, MSG-4) and new voicemail in My Messages (MSG-1..4)."""

from __future__ import annotations

from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import stored


def inbox(console: Console, member: str) -> list[tuple[str, str]]:
    """``(type, text)`` of the member's stored My Messages, oldest first."""
    rows = console.core.store.conn.execute(
        "SELECT type, text FROM inbox WHERE member_id = ? ORDER BY id", (member,)
    )
    return [(kind, text) for kind, text in rows]


async def test_transfer_to_a_mailbox_sends_the_caller_there_on_purpose_trf_6_msg_4(
    console: Console,
) -> None:
    """TRF-6 / MSG-4: `transfer vm:dana` leaves Carl's words in dana's box; dana gets a
    My Messages entry (voicemail, caller, duration) with the indicator, at that moment."""
    await console.run(
        "@alice: ready\nsim call Carl @alice\n@alice: accept\ntick 40s\n"
        "sim say Carl please call me back"
    )
    console.mark()
    await console.run("@alice: transfer vm:dana")
    assert console.received("@alice") == [
        "i1 went to vm:dana. Mark it `done i1` when your notes are complete."
    ]
    assert console.received("customer:Carl") == [
        "(i1) You are through to the voicemail of Dana Diaz: your message has been left, "
        "and we will get back to you."
    ]
    note = "New voicemail in dana from Carl (40s); dana: 1 new, 0 old. `voicemail dana` to listen."
    assert console.received("@dana") == [f"New message #1 (voicemail): {note}"]
    assert inbox(console, "dana") == [("voicemail", note)]
    assert snapshot(console.core.store)["mailboxes"]["dana"] == {"new": 1, "old": 0}
    assert stored(console, "i1")["state"] == "wrapup"
    await console.run("@dana: voicemail\n@dana: next\n@dana: play")
    assert console.last("@dana").endswith("Carl: please call me back")


async def test_a_group_mailbox_tells_every_member_of_the_group_msg_3_msg_4(
    console: Console,
) -> None:
    """MSG-3 / MSG-4: support's voicemail reaches alice, bob, chen and their supervisor sam."""
    await console.run("sim call Carl group:support\ntick 31s")
    note = (
        "New voicemail in support from Carl (30s); support: 1 new, 0 old. "
        "`voicemail support` to listen."
    )
    for member in ("alice", "bob", "chen", "sam"):
        assert ("voicemail", note) in inbox(console, member), member
        assert console.received(f"@{member}")[-1].endswith(f"(voicemail): {note}"), member
    assert inbox(console, "dana") == []


async def test_status_and_favourites_take_a_mailbox_msg_4_dir_4(console: Console) -> None:
    """MSG-4 / DIR-4: `status vm:dana` shows its counts; `fav add vm:support` lists it."""
    await console.run("@alice: status vm:dana\n@alice: fav add vm:support\n@alice: fav")
    assert console.received("@alice") == [
        "vm:dana Dana Diaz's mailbox — 0 new, 0 old",
        "Added vm:support to your favourites.",
        "Favourites:",
        "  vm:support Support's mailbox — 0 new, 0 old",
    ]
    console.mark()
    await console.run("@alice: fav rm vm:support\n@alice: status vm:nobody")
    removed, unknown = console.received("@alice")
    assert removed == "Removed vm:support from your favourites."
    assert unknown.startswith("There is no mailbox 'nobody'.")


async def test_a_mailbox_where_a_person_is_needed_is_refused_clearly_trf_6(
    console: Console,
) -> None:
    """TRF-6: `call vm:dana` says what a mailbox target is for; nothing is created."""
    await console.run("@alice: call vm:dana\n@alice: im vm:dana hi")
    for line in console.received("@alice"):
        assert line.startswith("vm:dana is a mailbox: `transfer vm:dana` sends a caller there")
    assert snapshot(console.core.store)["interactions"] == []
