"""Internal IM between members, through the console (IM-1..5)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.console import Console
from tests.support.state import edited_policy, live, mentioning, mode_of, parties, stored

REF = re.compile(r"\(ref [0-9a-f]{6}\)")


@pytest.fixture
async def auto_accept(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `im.auto_accept: true`."""
    rules = edited_policy(tmp_path, "auto_accept: false", "auto_accept: true")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


@pytest.fixture
async def deliver_to_all(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `im.group_delivery: all`."""
    rules = edited_policy(tmp_path, "group_delivery: one", "group_delivery: all")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


# --- IM-1 / IM-2: im TARGET [TEXT], an invitation, then messages both ways ------------------


async def test_im_invitation_accept_and_messages_both_ways_im_1_im_2(console: Console) -> None:
    """IM-1 / IM-2: bob sees the invitation with its text; after `accept` both write."""
    await console.run("@alice: ready\n@bob: ready")
    console.mark()
    await console.run("@alice: im @bob HELLO-1a2 are you free?")
    assert console.received("@bob") == [
        "(i1) @alice wants to IM with you: “HELLO-1a2 are you free?”. "
        "`accept i1` or `decline i1` within 30s."
    ]
    assert console.received("@alice") == ["IM i1: Offered to @bob."]
    ix = stored(console, "i1")
    assert (ix["kind"], ix["state"], ix["owner"], ix["parent"]) == ("im", "offered", "alice", None)
    assert parties(console, "i1") == {"@alice": ("owner", True)}  # not bob before he accepts

    console.mark()
    await console.run("@bob: accept\n@bob: say REPLY-3c4\n@alice: say BACK-5e6")
    assert console.received("@bob") == ["You joined i1 im.", "(i1) @alice: BACK-5e6"]
    assert console.received("@alice") == [
        "(i1) @bob accepted i1 im.",
        "(i1) @bob: REPLY-3c4",
    ]
    assert parties(console, "i1") == {"@alice": ("owner", True), "@bob": ("member", True)}
    assert stored(console, "i1")["state"] == "active"


async def test_im_reaches_a_member_on_another_platform_im_1(console: Console) -> None:
    """IM-1: alice IMs eli, who is only on Matrix; backline relays it both ways."""
    handles = console.core.directory.member("eli").handles
    assert set(handles) == {"matrix"}
    await console.run("@eli: ready")
    console.mark()
    await console.run("@alice: im @eli ELI-PING-7f\n@eli: accept\n@eli: say ELI-PONG-8a")
    assert console.received("@eli")[0].startswith(
        "(i1) @alice wants to IM with you: “ELI-PING-7f”."
    )
    assert "You joined i1 im." in console.received("@eli")
    assert "(i1) @eli: ELI-PONG-8a" in console.received("@alice")
    assert parties(console, "i1") == {"@alice": ("owner", True), "@eli": ("member", True)}


async def test_im_declined_is_reported_and_closes_im_2(console: Console) -> None:
    """IM-2: a declined invitation is reported to the sender and the session closes."""
    await console.run("@alice: ready\n@bob: ready\n@alice: im @bob hi")
    console.mark()
    await console.run("@bob: decline")
    assert console.received("@bob") == ["You declined i1."]
    assert console.received("@alice") == ["(i1) @bob declined. i1 im did not start."]
    assert stored(console, "i1")["state"] == "closed"
    assert parties(console, "i1") == {"@alice": ("owner", False)}
    assert live(console) == []


async def test_im_invitation_times_out_im_2(console: Console) -> None:
    """IM-2: an invitation nobody accepts times out; both sides are told."""
    await console.run("@alice: ready\n@bob: ready\n@alice: im @bob hi")
    console.mark()
    await console.run("tick 29s")
    assert console.received("@alice") == []
    await console.run("tick 1s")
    assert console.received("@bob") == ["(i1) The offer of i1 timed out."]
    assert console.received("@alice") == ["(i1) @bob did not answer. i1 im timed out."]
    assert stored(console, "i1")["state"] == "closed"


async def test_im_auto_accept_opens_at_once_im_2(auto_accept: Console) -> None:
    """IM-2: with `im.auto_accept: true` bob gets the message itself, no `accept` needed."""
    console = auto_accept
    await console.run("@alice: ready\n@bob: ready")
    console.mark()
    await console.run("@alice: im @bob AUTO-9b1\n@bob: say AUTO-REPLY-2c")
    assert console.received("@bob") == ["(i1) @alice: AUTO-9b1"]
    assert console.received("@alice") == ["IM i1 with @bob is open.", "(i1) @bob: AUTO-REPLY-2c"]
    assert stored(console, "i1")["state"] == "active"
    assert parties(console, "i1") == {"@alice": ("owner", True), "@bob": ("member", True)}
    console.mark()
    await console.run("@bob: accept")
    assert console.received("@bob")[0].startswith("Nothing is offered to you right now.")


async def test_auto_accept_does_not_open_an_im_with_a_logged_off_member_im_2(
    auto_accept: Console,
) -> None:
    """IM-2: auto-accept skips the invitation, not presence: eli is logged off, so it fails."""
    console = auto_accept
    await console.run("@alice: ready")
    console.mark()
    await console.run("@alice: im @eli NOBODY-HOME-3d")
    assert "(i1) @eli is logged off. i1 im did not start." in console.received("@alice")
    assert console.received("@eli") == []
    assert stored(console, "i1")["state"] == "closed"
    assert parties(console, "i1") == {"@alice": ("owner", False)}


# --- IM-3: end for both, done on each side --------------------------------------------------


async def test_end_ends_for_both_and_each_marks_done_im_3(console: Console) -> None:
    """IM-3: either side `end`s it; it stays ended until both have marked it done."""
    await console.run("@alice: ready\n@bob: ready\n@alice: im @bob hi\n@bob: accept")
    console.mark()
    await console.run("@bob: end")
    assert console.received("@bob") == ["You ended i1. Mark it `done i1` to close it."]
    assert console.received("@alice") == ["(i1) @bob ended i1 im. Mark it `done i1`."]
    assert stored(console, "i1")["state"] == "ended"
    assert parties(console, "i1") == {"@alice": ("owner", False), "@bob": ("member", False)}

    console.mark()
    await console.run("@alice: say TOO-LATE-4d")
    assert console.received("@alice")[0].startswith("You are no longer connected to i1;")
    assert mentioning(console.received("@bob"), "TOO-LATE-4d") == []

    await console.run("@alice: done")
    assert console.received("@alice")[-1] == "i1 is done."
    assert stored(console, "i1")["state"] == "ended"
    assert "i1" in live(console)
    await console.run("@alice: done i1")
    assert console.received("@alice")[-1].startswith("You already marked i1 done.")

    await console.run("@bob: done")
    assert console.received("@bob")[-1] == "i1 is done. It is closed."
    assert stored(console, "i1")["state"] == "closed"
    assert live(console) == []


async def test_done_before_end_is_refused_im_3(console: Console) -> None:
    """IM-3: `done` while still connected is refused; the session stays active."""
    await console.run("@alice: ready\n@bob: ready\n@alice: im @bob hi\n@bob: accept")
    console.mark()
    await console.run("@alice: done")
    refusal = console.received("@alice")[0]
    assert refusal.startswith("You are still connected to i1; `end` or `leave` it first.")
    assert REF.search(refusal)
    assert stored(console, "i1")["state"] == "active"
    assert console.received("@bob") == []


# --- IM-4: about an interaction (consultation via IM) or free-standing -----------------------


async def test_im_about_an_interaction_vs_free_standing_im_4(console: Console) -> None:
    """IM-4: `consult @bob im` is an IM about Ann's chat; `im @chen` is free-standing.

    Neither reaches Ann; bob sees Ann's transcript, chen does not.
    """
    await console.run(
        """
        @alice: ready
        @bob: ready
        @chen: ready
        sim chat Ann @alice REFUND-PLEASE-1
        @alice: accept
        """
    )
    console.mark()
    await console.run(
        """
        @alice: consult @bob im
        @bob: accept
        @bob: say CONSULT-TOKEN-77 refund is fine
        @alice: im @chen LUNCH-TOKEN-5 lunch?
        @chen: accept
        @chen: say LUNCH-REPLY-6
        @alice: say i1 your refund is on its way
        """
    )
    consultation, im = stored(console, "i2"), stored(console, "i3")
    assert (consultation["kind"], consultation["parent"]) == ("consultation", "i1")
    assert mode_of(console, "i2") == "im"
    assert (im["kind"], im["parent"]) == ("im", None)
    assert parties(console, "i2") == {"@alice": ("owner", True), "@bob": ("consultant", True)}
    assert parties(console, "i3") == {"@alice": ("owner", True), "@chen": ("member", True)}
    assert parties(console, "i1") == {"@alice": ("owner", True), "customer:Ann": ("customer", True)}

    bob = "\n".join(console.received("@bob"))
    assert "@alice asks you to consult (im) on i1" in bob
    assert "You joined i2 im consultation about i1 (read-only view of i1 chat with Ann)." in bob
    assert "Ann: REFUND-PLEASE-1" in bob
    chen = "\n".join(console.received("@chen"))
    assert "@alice wants to IM with you: “LUNCH-TOKEN-5 lunch?”" in chen
    assert "REFUND-PLEASE-1" not in chen

    alice = console.received("@alice")
    assert "(i2) @bob: CONSULT-TOKEN-77 refund is fine" in alice
    assert "(i3) @chen: LUNCH-REPLY-6" in alice
    ann = console.received("customer:Ann", since_mark=False)
    for token in ("CONSULT-TOKEN-77", "LUNCH-TOKEN-5", "LUNCH-REPLY-6"):
        assert mentioning(ann, token) == []
    assert console.received("customer:Ann") == ["(i1) Alice Anders: your refund is on its way"]

    # Ending the IM about i1 leaves the chat with Ann as it was.
    await console.run("@bob: end\n@alice: done i2\n@bob: done")
    assert stored(console, "i2")["state"] == "closed"
    assert stored(console, "i1")["state"] == "active"
    assert stored(console, "i3")["state"] == "active"


# --- IM-5: IM to a group --------------------------------------------------------------------


async def test_im_to_a_group_reaches_one_available_member_im_5(console: Console) -> None:
    """IM-5: with `group_delivery: one`, `im group:support` rings exactly one ready member."""
    await console.run("@bob: ready\n@chen: ready\n@dana: ready")
    console.mark()
    await console.run("@dana: im group:support GROUP-Q-3e")
    rung = [m for m in ("@alice", "@bob", "@chen") if console.received(m)]
    assert rung == ["@bob"]
    assert console.received("@bob") == [
        "(i1) @dana wants to IM with you via group:support: “GROUP-Q-3e”. "
        "`accept i1` or `decline i1` within 30s."
    ]
    assert console.received("@dana") == ["IM i1: group:support: offered to @bob."]
    await console.run("@bob: accept\n@bob: say GROUP-A-4f")
    assert "(i1) @bob: GROUP-A-4f" in console.received("@dana")
    assert parties(console, "i1") == {"@dana": ("owner", True), "@bob": ("member", True)}


async def test_im_to_a_group_declined_goes_to_the_next_member_im_5(console: Console) -> None:
    """IM-5 / GRP-3: bob declines the group IM; it rings chen, the next available member."""
    await console.run("@bob: ready\n@chen: ready\n@dana: ready\n@dana: im group:support hi")
    console.mark()
    await console.run("@bob: decline\n@chen: accept")
    assert console.received("@chen")[0].startswith(
        "(i1) @dana wants to IM with you via group:support"
    )
    assert "You joined i1 im." in console.received("@chen")
    assert parties(console, "i1") == {"@dana": ("owner", True), "@chen": ("member", True)}


async def test_im_to_a_group_rings_all_and_the_first_accept_wins_im_5(
    deliver_to_all: Console,
) -> None:
    """IM-5: with `group_delivery: all` every ready member is rung; chen wins, others are told."""
    console = deliver_to_all
    await console.run("@alice: ready\n@bob: ready\n@chen: ready\n@dana: ready")
    console.mark()
    await console.run("@dana: im group:support ALL-Q-5a")
    for member in ("@alice", "@bob", "@chen"):
        assert console.received(member) == [
            "(i1) @dana wants to IM with you via group:support: “ALL-Q-5a”. "
            "`accept i1` or `decline i1` within 30s."
        ]
    assert console.received("@eli") == []

    console.mark()
    await console.run("@chen: accept")
    assert console.received("@alice") == ["(i1) i1 was taken by @chen."]
    assert console.received("@bob") == ["(i1) i1 was taken by @chen."]
    assert console.received("@dana") == ["(i1) @chen accepted i1 im."]

    console.mark()
    await console.run("@bob: accept\n@alice: accept i1")
    bob, alice = console.received("@bob")[0], console.received("@alice")[0]
    assert bob.startswith("i1 was already taken by @chen.")
    assert alice.startswith("i1 was already taken by @chen.")
    assert REF.search(bob) and REF.search(alice)
    assert parties(console, "i1") == {"@dana": ("owner", True), "@chen": ("member", True)}

    console.mark()
    await console.run("@chen: say ALL-A-6b")
    assert console.received("@dana") == ["(i1) @chen: ALL-A-6b"]
    assert console.received("@alice") == console.received("@bob") == []


async def test_a_stray_accept_reads_one_log_however_many_are_live_im_5(
    deliver_to_all: Console,
) -> None:
    """IM-5 at scale: `accept` with nothing offered looks only at the offer that rang the
    member last, not at every live interaction's log (200 live here: one query)."""
    console = deliver_to_all
    await console.run("@alice: ready\n@bob: ready\n@chen: ready\n@dana: ready")
    await console.run("@dana: im group:support first\n@chen: accept")
    for n in range(200):  # live work alice has nothing to do with: billing emails
        await console.run(f"sim email C{n} group:billing note {n}")
    assert len(console.core.engine.live) == 201
    queries: list[str] = []
    console.core.store.conn.set_trace_callback(
        lambda sql: queries.append(sql) if sql.startswith("SELECT") else None
    )
    try:
        await console.run("@alice: accept")
    finally:
        console.core.store.conn.set_trace_callback(None)
    assert console.received("@alice")[-1].startswith("i1 was already taken by @chen.")
    event_reads = [q for q in queries if "FROM events" in q]
    assert len(event_reads) == 1, event_reads
