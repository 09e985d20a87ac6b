"""Who may hold and resume (INT-4, CNF-2, CON-7): `conference.hold_roles`, held consultations,
one active call per member."""

from __future__ import annotations

from pathlib import Path

from tests.support.console import Console
from tests.support.state import edited_policy, stored

CONFERENCE = (
    "@alice: ready\n@bob: ready\nsim call Carl @alice\n@alice: accept\n"
    "@alice: conference @bob\n@bob: accept"
)


async def test_in_a_conference_only_the_owner_holds_the_customer_int_4_cnf_2(
    console: Console,
) -> None:
    """INT-4 / CNF-2: bob (a conference member) is told only the owner holds Carl; nothing
    changes; alice holds and resumes."""
    await console.run(CONFERENCE)
    events_before = len(console.core.store.events(subject="i1"))
    console.mark()
    await console.run("@bob: hold\n@bob: resume")
    hold, resume = console.received("@bob")
    assert hold.startswith(
        "Only the owner @alice can hold Carl on i1; ask them, or `leave i1` to drop out."
    )
    assert resume.startswith("Only the owner @alice can resume Carl on i1;")
    assert console.received("customer:Carl") == []
    assert stored(console, "i1")["state"] == "active"
    assert len(console.core.store.events(subject="i1")) == events_before

    await console.run("@alice: hold")
    assert console.received("customer:Carl") == ["(i1) You are on hold."]
    assert stored(console, "i1")["state"] == "held"


async def test_hold_roles_may_let_conference_members_hold_int_4(tmp_path: Path) -> None:
    """INT-4: with `conference.hold_roles: [owner, member]` bob may hold Carl too."""
    rules = edited_policy(tmp_path, "hold_roles: [owner]", "hold_roles: [owner, member]")
    console = Console(rules, tmp_path / "db")
    try:
        await console.run(CONFERENCE)
        console.mark()
        await console.run("@bob: hold")
        assert console.received("@bob") == ["i1 is on hold."]
        assert console.received("customer:Carl") == ["(i1) You are on hold."]
    finally:
        console.close()


async def test_a_barging_supervisor_does_not_hold_the_customer_int_4_sup_3(
    console: Console,
) -> None:
    """INT-4 / SUP-3: sam barged in; his `hold` is refused naming who can."""
    await console.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@sam: barge @alice")
    console.mark()
    await console.run("@sam: hold")
    assert console.received("@sam")[0].startswith("Only the owner @alice can hold Carl on i1;")
    assert stored(console, "i1")["state"] == "active"


async def test_after_swap_only_the_initiator_resumes_the_consultation_con_7(
    console: Console,
) -> None:
    """CON-7: alice swapped back to Carl (i2 held); bob's `resume i2` is refused with a
    reason, and nothing changes; alice's `swap` brings i2 back."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim call Carl @alice\n@alice: accept\n"
        "@alice: consult @bob\n@bob: accept\n@alice: swap"
    )
    assert (stored(console, "i1")["state"], stored(console, "i2")["state"]) == ("active", "held")
    console.mark()
    await console.run("@bob: resume i2\n@bob: hold i2")
    resume, hold = console.received("@bob")
    assert resume.startswith(
        "Only @alice, who started i2, can resume it; they go back and forth with `swap`."
    )
    assert hold.startswith("Only @alice, who started i2, can hold it;")
    assert (stored(console, "i1")["state"], stored(console, "i2")["state"]) == ("active", "held")
    await console.run("@alice: swap")
    assert (stored(console, "i1")["state"], stored(console, "i2")["state"]) == ("held", "active")


async def test_consultant_is_told_when_the_consultation_goes_on_hold_con_7(
    console: Console,
) -> None:
    """CON-7: bob hears when alice puts i2 on hold (`swap`) and when she comes back."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim call Carl @alice\n@alice: accept\n"
        "@alice: consult @bob\n@bob: accept"
    )
    console.mark()
    await console.run("@alice: swap\n@alice: swap")
    assert console.received("@bob") == [
        "(i2) @alice put i2 voice consultation about i1 on hold and went back to i1.",
        "(i2) @alice is back on i2 voice consultation about i1.",
    ]


async def test_resuming_the_call_while_on_the_consultation_is_refused_con_7_int_4(
    console: Console,
) -> None:
    """CON-7 / INT-4: alice is on i2 with bob; `resume i1` would put her on two calls."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim call Carl @alice\n@alice: accept\n"
        "@alice: consult @bob\n@bob: accept"
    )
    console.mark()
    await console.run("@alice: resume i1")
    assert console.received("@alice")[0].startswith(
        "You are on i2 voice consultation about i1, and nobody is on two calls at once; "
        "`swap` or `hold i2` first."
    )
    assert console.received("customer:Carl") == []
    assert (stored(console, "i1")["state"], stored(console, "i2")["state"]) == ("held", "active")
