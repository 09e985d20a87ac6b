"""Working an interaction from offer to close, through the console (INT-1, INT-4, INT-5, GRP-4).

Every kind walks its machine in `rules/machines/`; each state change is an event that
`history ID` shows.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.console import Console
from tests.support.state import case, counts, edited_policy, live, parties, presences, stored

REF = re.compile(r"\(ref [0-9a-f]{6}\)$")


def path(console: Console, iid: str) -> list[tuple[str, str, str]]:
    """Every state change of ``iid`` as (trigger, from, to), from the event log."""
    return [
        (e.data["by"], e.data["from"], e.data["to"])
        for e in console.core.store.events(subject=iid, kind="state")
    ]


@pytest.fixture
async def with_after_call_work(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `interaction.after_call_work: 30s`."""
    rules = edited_policy(tmp_path, "after_call_work: 0s", "after_call_work: 30s")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


@pytest.fixture
async def with_dispositions(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `interaction.disposition_required: true`."""
    rules = edited_policy(tmp_path, "disposition_required: false", "disposition_required: true")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


# --- INT-1: every kind walks its machine -------------------------------------------------------


async def test_a_voice_call_walks_every_state_of_its_machine_int_1_int_4(
    console: Console,
) -> None:
    """INT-1 / INT-4: queued → offered → active → held → active → wrapup → closed."""
    await console.run("@alice: ready\nsim call Carl group:support")
    assert stored(console, "i1")["state"] == "offered"
    console.mark()
    await console.run("@alice: accept\n@alice: hold")
    assert stored(console, "i1")["state"] == "held"
    assert console.received("@alice")[-1] == "i1 is on hold."
    assert console.received("customer:Carl") == [
        "(i1) Alice Anders joined.",
        "(i1) You are on hold.",
    ]
    console.mark()
    await console.run("@alice: resume\n@alice: say how can I help?\nsim say Carl my bill")
    assert stored(console, "i1")["state"] == "active"
    assert console.received("@alice") == ["i1 is back.", "(i1) Carl: my bill"]
    assert console.received("customer:Carl") == [
        "(i1) You are off hold.",
        "(i1) Alice Anders: how can I help?",
    ]
    console.mark()
    await console.run("@alice: end")
    assert console.received("@alice") == [
        "You ended i1. Mark it `done i1` when your notes are complete."
    ]
    assert console.received("customer:Carl") == ["(i1) Alice Anders ended the call."]
    assert stored(console, "i1")["state"] == "wrapup"
    await console.run("@alice: done")
    assert console.last("@alice") == "i1 is done. It is closed."
    assert path(console, "i1") == [
        ("ring", "queued", "offered"),
        ("accept", "offered", "active"),
        ("hold", "active", "held"),
        ("resume", "held", "active"),
        ("end", "active", "wrapup"),
        ("done", "wrapup", "closed"),
    ]
    assert parties(console, "i1") == {
        "customer:Carl": ("customer", False),
        "@alice": ("owner", False),
    }
    assert presences(console)["alice"] == "ready"
    assert live(console) == []


@pytest.mark.parametrize(
    ("sim", "kind", "case_line", "offer"),
    [
        (
            "sim chat Ann group:support where is my parcel",
            "chat",
            "first message: where is my parcel",
            "New chat from Ann via group:support: “where is my parcel”.",
        ),
        (
            "sim email Ann group:support Invoice 17 missing",
            "email",
            "subject: Invoice 17 missing",
            "New email from Ann via group:support: “Invoice 17 missing”.",
        ),
        (
            "sim workitem Ann group:support Review refund 42",
            "workitem",
            "title: Review refund 42",
            "New workitem from Ann via group:support: “Review refund 42”.",
        ),
    ],
)
async def test_chat_email_and_workitem_walk_their_machines_with_case_data_int_1(
    console: Console, sim: str, kind: str, case_line: str, offer: str
) -> None:
    """INT-1: the offer shows the case data (subject, title); the briefing lists it; states."""
    await console.run("@bob: ready")
    console.mark()
    await console.run(sim)
    assert console.received("@bob") == [f"(i1) {offer} `accept i1` or `decline i1` within 20s."]
    row = stored(console, "i1")
    assert (row["kind"], row["state"]) == (kind, "offered")
    key, value = case_line.split(": ", 1)
    assert case(console, "i1")[key] == value

    console.mark()
    await console.run("@bob: accept\n@bob: say on it\n@bob: end\n@bob: done")
    bob = console.received("@bob")
    assert bob[:3] == [f"You have i1 {kind} with Ann.", "Contact: Ann", case_line]
    assert bob[-2:] == [
        "You ended i1. Mark it `done i1` when your notes are complete.",
        "i1 is done. It is closed.",
    ]
    said = {"chat": "chat", "email": "email", "workitem": "request"}[kind]
    assert console.received("customer:Ann") == [  # no chat-style "joined" for an email
        *(["(i1) Bob Baker joined."] if kind == "chat" else []),
        "(i1) Bob Baker: on it",
        f"(i1) Bob Baker ended the {said}.",
    ]
    assert path(console, "i1") == [
        ("ring", "queued", "offered"),
        ("accept", "offered", "active"),
        ("end", "active", "wrapup"),
        ("done", "wrapup", "closed"),
    ]
    assert stored(console, "i1")["owner"] == "bob"
    assert parties(console, "i1") == {"customer:Ann": ("customer", False), "@bob": ("owner", False)}


async def test_an_im_walks_its_machine_and_closes_when_both_marked_done_int_1(
    console: Console,
) -> None:
    """INT-1: an IM goes queued → offered → active → ended → closed (both Mark Done)."""
    await console.run("@bob: ready")
    console.mark()
    await console.run("@alice: im @bob lunch at one?")
    assert console.received("@alice") == ["IM i1: Offered to @bob."]
    assert console.received("@bob") == [
        "(i1) @alice wants to IM with you: “lunch at one?”. `accept i1` or `decline i1` within 30s."
    ]
    console.mark()
    await console.run("@bob: accept\n@bob: say sure\n@alice: end")
    assert console.received("@alice") == [
        "(i1) @bob accepted i1 im.",
        "(i1) @bob: sure",
        "You ended i1. Mark it `done i1` to close it.",
    ]
    assert console.received("@bob") == [
        "You joined i1 im.",
        "(i1) @alice ended i1 im. Mark it `done i1`.",
    ]
    assert stored(console, "i1")["state"] == "ended"
    await console.run("@alice: done")
    assert console.last("@alice") == "i1 is done."
    assert stored(console, "i1")["state"] == "ended"  # bob has not marked it done yet
    await console.run("@bob: done")
    assert console.last("@bob") == "i1 is done. It is closed."
    assert path(console, "i1") == [
        ("ring", "queued", "offered"),
        ("accept", "offered", "active"),
        ("end", "active", "ended"),
        ("done", "ended", "closed"),
    ]
    assert parties(console, "i1") == {"@alice": ("owner", False), "@bob": ("member", False)}


# --- INT-4: hold, end, done, dispositions, after-call work ---------------------------------------


async def test_hold_is_for_calls_only_and_the_refusal_names_kind_and_state_int_4(
    console: Console,
) -> None:
    """INT-4: `hold` on a chat is refused saying chats are not held; nothing changes."""
    await console.run("@alice: ready\nsim chat Ann @alice hi\n@alice: accept")
    events_before = len(console.core.store.events(subject="i1"))
    console.mark()
    await console.run("@alice: hold\n@alice: resume")
    hold, resume = console.received("@alice")
    assert hold.startswith("i1 is a chat, and chats are not held; only calls are.")
    assert resume.startswith("i1 is a chat, and chats are not held; only calls are.")
    assert REF.search(hold) and REF.search(resume)
    assert console.received("customer:Ann") == []
    assert stored(console, "i1")["state"] == "active"
    assert len(console.core.store.events(subject="i1")) == events_before


async def test_only_the_owner_ends_and_ending_releases_everyone_int_4(console: Console) -> None:
    """INT-4: a conference member cannot `end` the chat; the owner's `end` releases all."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim chat Ann @alice hi\n@alice: accept\n"
        "@alice: conference @bob\n@bob: accept"
    )
    console.mark()
    await console.run("@bob: end")
    refusal = console.received("@bob")
    assert len(refusal) == 1
    assert refusal[0].startswith("Only the owner @alice can end i1; `leave` drops you out.")
    assert console.received("customer:Ann") == []
    assert stored(console, "i1")["state"] == "active"

    console.mark()
    await console.run("@alice: end")
    assert console.received("@alice") == [
        "You ended i1. Mark it `done i1` when your notes are complete."
    ]
    assert console.received("@bob") == ["(i1) @alice ended i1."]
    assert console.received("customer:Ann") == ["(i1) Alice Anders ended the chat."]
    assert parties(console, "i1") == {
        "customer:Ann": ("customer", False),
        "@alice": ("owner", False),
        "@bob": ("member", False),
    }
    await console.run("@alice: done")
    assert stored(console, "i1")["state"] == "wrapup"  # bob still has to mark it done
    await console.run("@bob: done")
    assert stored(console, "i1")["state"] == "closed"


async def test_done_is_refused_while_still_connected_int_4(console: Console) -> None:
    """INT-4: `done` before `end` is refused and says what to do; the chat goes on."""
    await console.run("@alice: ready\nsim chat Ann @alice hi\n@alice: accept")
    console.mark()
    await console.run("@alice: done\n@alice: done i1")
    replies = console.received("@alice")
    assert len(replies) == 2
    for reply in replies:
        assert reply.startswith("You are still connected to i1; `end` or `leave` it first.")
        assert REF.search(reply)
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "alice")
    assert parties(console, "i1")["@alice"] == ("owner", True)
    await console.run("@alice: end\n@alice: done\n@alice: done i1")
    assert console.received("@alice")[-2] == "i1 is done. It is closed."
    assert console.received("@alice")[-1].startswith("You have no live interaction i1.")


async def test_a_required_disposition_must_be_set_before_done_int_4(
    with_dispositions: Console,
) -> None:
    """INT-4: with `disposition_required: true`, `done` waits for `dispose CODE`."""
    console = with_dispositions
    await console.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@alice: end")
    console.mark()
    await console.run("@alice: done")
    refusal = console.received("@alice")[0]
    assert refusal.startswith("Set a disposition first: `dispose CODE i1`.")
    assert REF.search(refusal)
    assert stored(console, "i1")["state"] == "wrapup"

    console.mark()
    await console.run("@alice: dispose resolved\n@alice: done")
    assert console.received("@alice") == ["i1 disposition: resolved.", "i1 is done. It is closed."]
    assert stored(console, "i1")["state"] == "closed"
    assert [e.data for e in console.core.store.events(subject="i1", kind="disposition")] == [
        {"code": "resolved"}
    ]
    assert console.received("customer:Carl") == []


async def test_no_disposition_needed_by_default_int_4(console: Console) -> None:
    """INT-4: the shipped rule (`disposition_required: false`) closes on `done` alone."""
    await console.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@alice: end")
    await console.run("@alice: done")
    assert console.last("@alice") == "i1 is done. It is closed."
    assert stored(console, "i1")["state"] == "closed"


async def test_after_call_work_follows_the_rule_then_ready_again_int_4_grp_4(
    with_after_call_work: Console,
) -> None:
    """INT-4 / GRP-4: 30s after-call work when the call ends: uncounted, then ready by itself."""
    console = with_after_call_work
    await console.run("@alice: ready\n@bob: ready\nsim call Carl group:support\n@alice: accept")
    assert (presences(console)["alice"], counts(console)["support"]) == ("busy", 1)
    console.mark()
    await console.run("@alice: end")
    assert presences(console)["alice"] == "after_call_work"
    assert counts(console)["support"] == 1  # bob only: after-call work is not counted
    await console.run("@alice: done\n@dana: groups")
    assert "group:support Support — 1 ready (now)" in console.last("@dana")

    # new work does not go to a member in after-call work
    await console.run("sim chat Ann group:support hi")
    assert console.received("@alice") == [
        "You ended i1. Mark it `done i1` when your notes are complete.",
        "You are in after-call work for up to 30s, then ready again; "
        "type `ready` to leave it sooner.",
        "i1 is done. It is closed.",
    ]
    await console.run("@bob: decline")
    assert stored(console, "i2")["state"] == "queued"

    console.mark()
    await console.run("tick 29s")
    assert presences(console)["alice"] == "after_call_work"
    await console.run("tick 2s")
    assert console.received("@alice")[0] == "After-call work is over; you are ready."
    assert presences(console)["alice"] == "ready"
    assert counts(console)["support"] == 2
    assert console.core.directory.counts() == console.core.directory.recount()
    states = [e.data["state"] for e in console.core.store.events(subject="@alice", kind="presence")]
    assert states[-2:] == ["after_call_work", "ready"]


async def test_no_after_call_work_by_default_int_4(console: Console) -> None:
    """INT-4: the shipped `after_call_work: 0s` leaves the member ready when the call ends."""
    await console.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@alice: end")
    assert presences(console)["alice"] == "ready"
    assert counts(console)["support"] == 1


# --- INT-5: events and history -------------------------------------------------------------------


async def test_every_state_change_is_an_event_that_history_shows_int_5(console: Console) -> None:
    """INT-5: each transition is logged; `history` lists them for a party and a supervisor."""
    await console.run(
        "@alice: ready\ntick 1s\n@bob: ready\nsim chat Ann group:support hi\n"
        "@alice: decline\n@bob: accept\n@bob: end\n@bob: done"
    )
    changes = path(console, "i1")
    assert changes == [
        ("ring", "queued", "offered"),
        ("requeue", "offered", "queued"),
        ("ring", "queued", "offered"),
        ("accept", "offered", "active"),
        ("end", "active", "wrapup"),
        ("done", "wrapup", "closed"),
    ]
    await console.run("@bob: history i1")
    shown = console.last("@bob").splitlines()
    assert shown[0] == "History of i1:"
    state_lines = [line for line in shown if " state " in line]
    assert [line.split(" state ")[1] for line in state_lines] == [
        f"by={by}, from={source}, to={dest}" for by, source, dest in changes
    ]
    for expected in (
        "created customer=Ann, kind=chat, target=group:support",
        "offered purpose=route, to=['@alice']",
        "declined by=@alice",
        "accepted by=@bob, purpose=route",
        "owner owner=@bob",
        "done who=@bob",
    ):
        assert [line for line in shown if line.endswith(expected)], expected

    # a supervisor sees it, a member who never took part does not
    await console.run("@sam: history i1\n@dana: history i1")
    assert console.last("@sam").splitlines() == shown
    refusal = console.last("@dana")
    assert refusal.startswith("You never took part in i1; only its parties and supervisors see it.")
    assert REF.search(refusal)
    # the log only grows: ids ascend and nothing was rewritten by reading it
    ids = [e.id for e in console.core.store.events(subject="i1")]
    assert ids == sorted(ids)
    assert path(console, "i1") == changes


async def test_a_new_spell_of_after_call_work_is_not_cut_short_by_the_last_one_int_4(
    with_after_call_work: Console,
) -> None:
    """INT-4: each call's after-call work lasts its full 30s, whatever an earlier one left armed."""
    console = with_after_call_work
    await console.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@alice: end")
    assert presences(console)["alice"] == "after_call_work"  # until 30s
    await console.run("tick 5s\n@alice: ready\nsim call Cleo @alice\n@alice: accept\ntick 10s")
    await console.run("@alice: end")  # at 15s: after-call work until 45s
    assert presences(console)["alice"] == "after_call_work"
    console.mark()
    await console.run("tick 16s")  # 31s: the first call's timer is stale
    assert presences(console)["alice"] == "after_call_work"
    assert console.received("@alice") == []
    await console.run("tick 15s")  # 46s
    assert console.received("@alice") == ["After-call work is over; you are ready."]
    assert presences(console)["alice"] == "ready"
