"""Calling colleagues through the console: `call TARGET`, `retry TARGET` (DIR-3, GRP-3, INT-4).

In the demo directory alice, bob, chen, dana, fay and sam have a voice endpoint; eli and sky
do not. support is alice, bob and chen; billing is dana and eli.
"""

from __future__ import annotations

from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import live, parties, presences, stored


def events_of(console: Console, iid: str, kind: str) -> list[dict[str, object]]:
    return [e.data for e in console.core.store.events(subject=iid, kind=kind)]


async def test_call_a_member_offer_accept_both_connected_end_done_dir_3(console: Console) -> None:
    """DIR-3 / INT-3 / INT-4: `call @bob` rings bob; `accept` connects both; `end`, `done`."""
    await console.run("@alice: ready\n@bob: ready")
    console.mark()
    await console.run("@alice: call @bob")
    assert console.received("@alice") == ["Calling (i1): Offered to @bob."]
    assert console.received("@bob") == [
        "(i1) @alice is calling you. `accept i1` or `decline i1` within 30s."
    ]
    row = stored(console, "i1")
    assert (row["kind"], row["state"], row["owner"]) == ("voice", "offered", "alice")

    console.mark()
    await console.run("@bob: accept")
    assert console.received("@bob") == ["You are on i1 internal call from @alice. `end` hangs up."]
    assert console.received("@alice") == ["(i1) @bob answered i1 internal call. You are connected."]
    assert stored(console, "i1")["state"] == "active"
    assert parties(console, "i1") == {"@alice": ("owner", True), "@bob": ("member", True)}
    assert (presences(console)["alice"], presences(console)["bob"]) == ("busy", "busy")

    console.mark()
    await console.run("@bob: say can you hear me?\n@bob: end")
    assert console.received("@alice") == ["(i1) @bob: can you hear me?", "(i1) @bob ended i1."]
    assert stored(console, "i1")["state"] == "wrapup"
    await console.run("@alice: done\n@bob: done")
    assert stored(console, "i1")["state"] == "closed"
    assert live(console) == []
    assert console.received("customer:Ann") == []


async def test_call_a_group_rings_one_available_member_with_a_phone_grp_3(
    console: Console,
) -> None:
    """GRP-3 / DIR-3: `call group:billing` rings dana, never eli (no voice endpoint)."""
    await console.run("@eli: ready\n@dana: ready\n@alice: ready")
    console.mark()
    await console.run("@alice: call group:billing")
    assert console.received("@alice") == ["Calling (i1): group:billing: offered to @dana."]
    assert console.received("@eli") == []
    assert console.received("@dana") == [
        "(i1) @alice is calling you via group:billing. `accept i1` or `decline i1` within 30s."
    ]
    await console.run("@dana: accept")
    assert parties(console, "i1") == {"@alice": ("owner", True), "@dana": ("member", True)}


async def test_call_a_queue_waits_and_rings_the_first_member_who_is_ready_grp_3(
    console: Console,
) -> None:
    """GRP-3: nobody in queue:overflow is ready; the call waits and rings bob once he is."""
    await console.run("@alice: notready lunch")
    console.mark()
    await console.run("@alice: call queue:overflow")
    assert console.received("@alice") == [
        "Calling (i1): nobody in queue:overflow is available now; waiting up to 30s."
    ]
    await console.run("tick 5s\n@bob: ready")
    assert console.received("@bob")[-1] == (
        "(i1) @alice is calling you via queue:overflow. `accept i1` or `decline i1` within 30s."
    )


async def test_call_to_a_member_without_voice_says_so_and_offers_im_dir_3(
    console: Console,
) -> None:
    """DIR-3: eli has no voice endpoint: `call @eli` is refused, names `im`, stores nothing."""
    await console.run("@alice: ready\n@eli: ready")
    console.mark()
    await console.run("@alice: call @eli\n@sky: call @alice")
    eli, sky = console.received("@alice")[0], console.received("@sky")[0]
    assert eli.startswith(
        "@eli has no voice endpoint, so they cannot be called; `im @eli` reaches them instead."
    )
    assert sky.startswith("You have no voice endpoint; `im @alice` reaches them by IM.")
    assert console.received("@eli") == []
    assert snapshot(console.core.store)["interactions"] == []


async def test_an_unanswered_call_closes_and_retry_calls_again_dir_3(console: Console) -> None:
    """DIR-3: bob declines; `find` offers `retry`; `retry @bob` places the same call again."""
    await console.run("@alice: ready\n@bob: ready\n@alice: call @bob")
    console.mark()
    await console.run("@bob: decline")
    assert console.received("@alice") == [
        "(i1) @bob declined. i1 internal call did not connect; `retry @bob` tries again, "
        "or `im @bob`."
    ]
    assert stored(console, "i1")["state"] == "closed"
    await console.run("@alice: find bob")
    assert console.last("@alice").endswith("· call, im, retry")

    console.mark()
    await console.run("@alice: retry @bob")
    assert console.received("@alice") == ["Retrying `call @bob`:", "Calling (i2): Offered to @bob."]
    assert console.received("@bob") == [
        "(i2) @alice is calling you. `accept i2` or `decline i2` within 30s."
    ]
    await console.run("@bob: accept\n@alice: find bob")
    assert console.last("@alice").endswith("· call, im, consult, transfer, conference")


async def test_retry_without_a_failed_attempt_is_refused_dir_3(console: Console) -> None:
    """DIR-3: nothing failed, so `retry @bob` says what to do instead and changes nothing."""
    await console.run("@alice: retry @bob\n@alice: retry")
    first, second = console.received("@alice")
    assert first.startswith(
        "Your last attempt to reach @bob did not fail, so there is nothing to retry; "
        "`call @bob` or `im @bob`."
    )
    assert second.startswith("`retry`: missing arguments. Usage: `retry TARGET`")
    assert snapshot(console.core.store)["interactions"] == []


async def test_retry_repeats_a_failed_im_too_dir_3(console: Console) -> None:
    """DIR-3: an IM bob could not take is retried as the same IM, text and all."""
    await console.run("@alice: im @bob are you there?")
    assert stored(console, "i1")["state"] == "closed"
    await console.run("@bob: ready")
    console.mark()
    await console.run("@alice: retry @bob")
    assert console.received("@alice")[0] == "Retrying `im @bob are you there?`:"
    assert console.received("@bob") == [
        "(i2) @alice wants to IM with you: “are you there?”. `accept i2` or `decline i2` "
        "within 30s."
    ]


async def test_find_advertises_only_actions_that_are_commands_dir_3(console: Console) -> None:
    """DIR-3: every action `find` offers is a command alice may type."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim chat Ann @alice hi\n@alice: accept\n"
        "@alice: consult @bob\n@bob: decline\n@alice: find b"
    )
    lines = console.last("@alice").splitlines()[1:]
    actions = {a.strip() for line in lines for a in line.split("·")[-1].split(",")}
    assert {"call", "im", "consult", "transfer", "conference", "retry"} <= actions
    for action in actions:
        assert console.core.commands.get(action) is not None, action


async def test_an_internal_call_is_held_consulted_and_transferred_int_4_con_7_trf_2(
    console: Console,
) -> None:
    """INT-4 / CON-7 / TRF-2: hold and resume tell the other side; a consultation holds the
    call; the warm transfer hands it to chen, who talks with bob; history tells it all."""
    await console.run("@alice: ready\n@bob: ready\n@chen: ready\n@alice: call @bob\n@bob: accept")
    console.mark()
    await console.run("@alice: hold\n@alice: resume")
    assert console.received("@bob") == [
        "(i1) @alice put i1 internal call on hold.",
        "(i1) @alice took i1 internal call off hold.",
    ]
    await console.run("@alice: consult @chen\n@chen: accept")
    assert stored(console, "i1")["state"] == "held"
    console.mark()
    await console.run("@alice: transfer")
    assert console.received("@alice") == ["Warm transfer done: @chen owns i1. Mark it `done i1`."]
    row = stored(console, "i1")
    assert (row["state"], row["owner"]) == ("active", "chen")
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("member", True),
        "@chen": ("owner", True),
    }
    await console.run("@chen: say hello bob")
    assert console.received("@bob")[-1] == "(i1) @chen: hello bob"
    assert [e["owner"] for e in events_of(console, "i1", "owner")] == ["@alice", "@chen"]
    # the old owner was on an internal call: no after-call work for it
    assert presences(console)["alice"] == "ready"


async def test_an_internal_call_can_become_a_conference_cnf_1(console: Console) -> None:
    """CNF-1: `conference @chen` on an internal call adds chen; all three hear each other."""
    await console.run("@alice: ready\n@bob: ready\n@chen: ready\n@alice: call @bob\n@bob: accept")
    await console.run("@alice: conference @chen\n@chen: accept")
    console.mark()
    await console.run("@bob: say all here?")
    assert console.received("@alice") == ["(i1) @bob: all here?"]
    assert console.received("@chen") == ["(i1) @bob: all here?"]


async def test_nobody_is_on_two_calls_at_once_int_4(console: Console) -> None:
    """INT-4: on a customer call alice cannot `call` too; she consults instead."""
    await console.run("@alice: ready\n@bob: ready\nsim call Carl @alice\n@alice: accept")
    console.mark()
    await console.run("@alice: call @bob")
    assert console.received("@alice")[0].startswith(
        "You are on i1 voice with Carl; `consult @bob` to talk to them about it, or end it first."
    )
    assert console.received("@bob") == []
    assert [ix["id"] for ix in snapshot(console.core.store)["interactions"]] == ["i1"]
