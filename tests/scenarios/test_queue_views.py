"""Queue and team views (GRP-2, GRP-3): `queue [TARGET]`, `team [GROUP]`, `groups` with what
waits, and the same figures on `/metrics`."""

from __future__ import annotations

from tests.support.console import Console


async def test_queue_lists_waiting_work_oldest_first_with_who_is_offered_grp_3(
    console: Console,
) -> None:
    """GRP-3: customer, kind, wait time and who is being offered it, per target."""
    await console.run("sim email Eve group:support Invoice\ntick 5m\nsim chat Bob group:billing x")
    await console.run("tick 10s\n@bob: ready")  # bob is rung with Eve's email at once
    console.mark()
    await console.run("@sam: queue")
    assert console.received("@sam") == [
        "Waiting (2), oldest first:",
        "  group:support — 1 waiting, longest 5m10s",
        "    i1 email from Eve — waiting 5m10s, offered to @bob",
        "  group:billing — 1 waiting, longest 10s",
        "    i2 chat from Bob — waiting 10s, nobody offered yet",
    ]
    console.mark()
    await console.run(
        "@sam: queue group:billing\n@sam: queue queue:overflow\n@sam: queue group:vip"
    )
    assert console.received("@sam") == [
        "Waiting (1), oldest first:",
        "  group:billing — 1 waiting, longest 10s",
        "    i2 chat from Bob — waiting 10s, nobody offered yet",
        "Waiting (2), oldest first:",  # a queue shows what waits in the groups it routes to
        "  group:support — 1 waiting, longest 5m10s",
        "    i1 email from Eve — waiting 5m10s, offered to @bob",
        "  group:billing — 1 waiting, longest 10s",
        "    i2 chat from Bob — waiting 10s, nobody offered yet",
        "Nothing waits for group:vip.",
    ]
    await console.run("@bob: accept\n@sam: queue group:support")
    assert console.last("@sam") == "Nothing waits for group:support."


async def test_groups_shows_how_many_wait_and_the_longest_wait_grp_2_grp_3(
    console: Console,
) -> None:
    """GRP-2 / GRP-3: beside "N ready (now)", the waiting count and the longest wait."""
    await console.run("sim email Eve group:support Invoice\ntick 2m\nsim email Fay group:support x")
    await console.run("@dana: groups")
    assert console.received("@dana") == [
        "Agent groups:",
        "  group:billing Billing — 0 ready (now) (yours)",
        "  group:support Support — 0 ready (now), 2 waiting (longest 2m)",
        "  group:vip VIP desk — 0 ready (now)",
    ]


async def test_team_shows_presence_time_in_state_and_live_work_grp_2(console: Console) -> None:
    """GRP-2: `team` (a supervisor's own group by default) lists each member's presence,
    how long they have been in it and their live interactions."""
    await console.run(
        "@alice: ready\nsim chat Ann @alice hi\n@alice: accept\ntick 1m\n@bob: notready lunch\n"
        "tick 30s\nsim email Eve group:support Invoice\ntick 5s"
    )
    console.mark()
    await console.run("@sam: team\n@alice: team skill:spanish")
    assert console.received("@sam") == [
        "Team group:support Support (1 ready now):",  # chat capacity 3: alice takes more
        "  @alice Alice Anders — ready for 1m35s · 1 live (i1 chat)",
        "  @bob Bob Baker — not ready (lunch) for 35s · no live interactions",
        "  @chen Chen Li — logged off for 1m35s · no live interactions",
        "  1 waiting, longest 5s: `queue group:support`",
    ]
    assert console.received("@alice")[:1] == ["Team skill:spanish Spanish speakers (0 ready now):"]


async def test_team_and_queue_refuse_what_they_cannot_show_grp_2(console: Console) -> None:
    """GRP-2: a queue has no members of its own; fay's `team` names her group by default."""
    await console.run("@alice: team queue:overflow\n@alice: team @bob\n@fay: team\n@sky: queue @x")
    alice = console.received("@alice")
    assert alice[0].startswith("queue:overflow is not a group; try `team group:support`.")
    assert alice[1].startswith("@bob is not a group;")
    assert console.received("@fay")[0] == "Team group:vip VIP desk (0 ready now):"
    assert console.received("@sky")[0].startswith("Nobody called @x is in the directory.")
