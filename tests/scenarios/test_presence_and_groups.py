"""Presence commands and live group counts, through the console (DIR-5, GRP-1, GRP-2, GRP-4)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.console import Console, copy_rules

REF = re.compile(r"\(ref [0-9a-f]{6}\)")


def assert_counts_consistent(console: Console) -> None:
    """The maintained counts equal a full recount and the `groups.available` column."""
    directory = console.core.directory
    stored = dict(console.core.store.conn.execute("SELECT id, available FROM groups"))
    assert directory.counts() == directory.recount() == stored


def stored_presence(console: Console, member: str) -> tuple[str, str | None, int]:
    row = console.core.store.conn.execute(
        "SELECT state, reason, busy FROM presence WHERE member_id = ?", (member,)
    ).fetchone()
    return row[0], row[1], row[2]


def edited_policy(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped rules with one policy line changed."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert old in text
    policy.write_text(text.replace(old, new, 1), encoding="utf-8")
    return rules


@pytest.fixture
async def hidden_groups(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `groups.searchable: false`."""
    rules = edited_policy(tmp_path, "searchable: true", "searchable: false")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


@pytest.fixture
async def no_counts(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `groups.show_available_count: false`."""
    rules = edited_policy(tmp_path, "show_available_count: true", "show_available_count: false")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


async def test_presence_changes_show_in_group_counts_at_once(console: Console) -> None:
    """GRP-2 / DIR-5: each presence command moves the support count in the very next `groups`."""
    await console.run("@dana: groups")
    assert "group:support Support — 0 ready (now)" in console.last("@dana")
    await console.run("@alice: ready\n@bob: ready\n@dana: groups")
    assert "group:support Support — 2 ready (now)" in console.last("@dana")
    await console.run("@bob: notready lunch\n@dana: groups")
    assert "group:support Support — 1 ready (now)" in console.last("@dana")
    await console.run("@alice: aftercall\n@dana: groups")
    assert "group:support Support — 0 ready (now)" in console.last("@dana")
    assert console.core.directory.counts() == console.core.directory.recount()


# --- DIR-5: presence commands -------------------------------------------------------------


async def test_ready_makes_the_member_ready_everywhere_dir_5(console: Console) -> None:
    """DIR-5: `ready` is answered, stored, logged as an event and seen by others at once."""
    await console.run("@bob: ready")
    assert console.last("@bob") == "You are ready."
    assert stored_presence(console, "bob") == ("ready", None, 0)
    events = console.core.store.events(subject="@bob", kind="presence")
    assert [e.data["state"] for e in events] == ["ready"]
    await console.run("@alice: status @bob")
    assert console.last("@alice") == "@bob Bob Baker — ready · on console, slack, xmpp"
    assert_counts_consistent(console)


async def test_notready_with_a_reason_from_the_policy_dir_5(console: Console) -> None:
    """DIR-5: `notready lunch` stores the reason and others see it; a bare `notready` works."""
    await console.run("@bob: ready\n@bob: notready lunch\n@alice: status @bob")
    assert console.last("@bob") == "You are not ready (lunch)."
    assert console.last("@alice") == "@bob Bob Baker — not ready (lunch) · on console, slack, xmpp"
    assert stored_presence(console, "bob") == ("not_ready", "lunch", 0)
    await console.run("@chen: notready\n@chen: status")
    assert console.received("@chen")[-2:] == ["You are not ready.", "You are not ready."]
    assert stored_presence(console, "chen") == ("not_ready", None, 0)
    assert_counts_consistent(console)


async def test_notready_with_an_unknown_reason_is_refused_and_changes_nothing_dir_5(
    console: Console,
) -> None:
    """DIR-5: a reason outside `presence.not_ready_reasons` is refused with the allowed list."""
    await console.run("@bob: ready")
    events_before = len(console.core.store.events(kind="presence"))
    await console.run("@bob: notready nap\n@alice: status @bob")
    refusal = console.received("@bob")[-1]
    assert refusal.startswith(
        "'nap' is not a not-ready reason here. Use one of: break, lunch, meeting, training, other."
    )
    assert REF.search(refusal)
    assert stored_presence(console, "bob") == ("ready", None, 0)
    assert console.last("@alice") == "@bob Bob Baker — ready · on console, slack, xmpp"
    assert len(console.core.store.events(kind="presence")) == events_before
    assert_counts_consistent(console)


async def test_aftercall_and_logout_dir_5(console: Console) -> None:
    """DIR-5: `aftercall` and `logout` set those states; others see them; events are logged."""
    await console.run("@bob: ready\n@bob: aftercall\n@alice: status @bob")
    assert console.received("@bob")[-1] == (  # INT-4: how long, and how to leave it
        "You are in after-call work for up to 2m, then ready again; type `ready` to leave it"
        " sooner."
    )
    assert console.last("@alice") == "@bob Bob Baker — after call work · on console, slack, xmpp"
    assert stored_presence(console, "bob") == ("after_call_work", "timed 120", 0)  # 2m, timed
    await console.run("@bob: logout\n@alice: status @bob")
    assert console.received("@bob")[-1] == "You are logged off."
    assert console.last("@alice") == "@bob Bob Baker — logged off · on console, slack, xmpp"
    assert stored_presence(console, "bob") == ("logged_off", None, 0)
    states = [e.data["state"] for e in console.core.store.events(subject="@bob", kind="presence")]
    assert states == ["ready", "after_call_work", "logged_off"]
    assert_counts_consistent(console)


async def test_status_of_self_member_and_group_dir_5(console: Console) -> None:
    """DIR-5: `status`, `status @bob` and `status group:support` answer from live presence."""
    await console.run("@alice: status")
    assert console.last("@alice") == "You are logged off."
    await console.run("@alice: ready\n@chen: notready meeting\n@alice: status")
    assert console.last("@alice") == "You are ready."
    await console.run("@bob: status @chen")
    assert console.last("@bob") == "@chen Chen Li — not ready (meeting) · on console, xmpp"
    await console.run("@bob: status group:support")
    assert console.last("@bob") == "group:support Support — 1 ready (now)"
    await console.run("@bob: status @nobody")
    assert console.last("@bob").startswith("Nobody called @nobody is in the directory.")
    assert_counts_consistent(console)


# --- GRP-1: groups ------------------------------------------------------------------------


async def test_groups_lists_the_three_groups_marking_yours_grp_1(console: Console) -> None:
    """GRP-1: `groups` lists billing, support and vip; the member's own group says (yours)."""
    await console.run("@alice: groups\n@eli: groups")
    assert console.last("@alice") == "\n".join(
        [
            "Agent groups:",
            "  group:billing Billing — 0 ready (now)",
            "  group:support Support — 0 ready (now) (yours)",
            "  group:vip VIP desk — 0 ready (now)",
        ]
    )
    eli = console.last("@eli")
    assert "group:billing Billing — 0 ready (now) (yours)" in eli
    assert "group:support Support — 0 ready (now)\n" in eli
    assert "skill:" not in eli and "queue:" not in eli and "rp:" not in eli


async def test_groups_not_searchable_refuses_groups_and_hides_them_from_find_grp_1(
    hidden_groups: Console,
) -> None:
    """GRP-1: with `groups.searchable: false`, `groups` is refused and `find` finds no group."""
    await hidden_groups.run("@alice: groups")
    refusal = hidden_groups.last("@alice")
    assert refusal.startswith("Groups are not listed here")
    assert REF.search(refusal)
    await hidden_groups.run("@alice: find sup")
    assert hidden_groups.last("@alice") == "Nothing found for 'sup'."
    await hidden_groups.run("@alice: find span")
    assert hidden_groups.last("@alice") == "Nothing found for 'span'."
    await hidden_groups.run("@alice: find sam")
    assert "@sam Sam Stone" in hidden_groups.last("@alice")


# --- GRP-2 / GRP-4: counts ------------------------------------------------------------------


async def test_counts_are_fresh_after_every_change_grp_2(console: Console) -> None:
    """GRP-2: after each presence change the next `groups` shows the new count; all agree."""
    steps = [
        ("@alice: ready", 1, 0),
        ("@dana: ready", 1, 1),
        ("@bob: ready", 2, 1),
        ("@eli: ready", 2, 2),
        ("@alice: logout", 1, 2),
        ("@eli: notready break", 1, 1),
        ("@bob: aftercall", 0, 1),
        ("@bob: ready", 1, 1),
    ]
    for line, support, billing in steps:
        await console.run(f"{line}\n@fay: groups")
        shown = console.last("@fay")
        assert f"group:support Support — {support} ready (now)" in shown, line
        assert f"group:billing Billing — {billing} ready (now)" in shown, line
        assert console.core.directory.available("group:support") == support
        assert_counts_consistent(console)


async def test_no_counts_when_show_available_count_is_off_grp_2(no_counts: Console) -> None:
    """GRP-2: with `groups.show_available_count: false` no count is shown anywhere."""
    await no_counts.run("@alice: ready\n@bob: groups")
    assert no_counts.last("@bob") == "\n".join(
        [
            "Agent groups:",
            "  group:billing Billing",
            "  group:support Support (yours)",
            "  group:vip VIP desk",
        ]
    )
    await no_counts.run("@bob: status group:support")
    assert no_counts.last("@bob") == "group:support Support"
    await no_counts.run("@bob: find span")
    assert "ready (now)" not in no_counts.last("@bob")
    assert "skill:spanish Spanish speakers" in no_counts.last("@bob")


async def test_after_call_work_and_busy_members_are_not_counted_grp_4(console: Console) -> None:
    """GRP-4: counts say "ready (now)"; after-call work and busy members are never counted."""
    await console.run("@alice: ready\n@bob: ready\n@chen: ready\n@dana: status group:support")
    assert console.last("@dana") == "group:support Support — 3 ready (now)"
    await console.run("@chen: aftercall\n@dana: status group:support")
    assert console.last("@dana") == "group:support Support — 2 ready (now)"
    assert_counts_consistent(console)

    directory = console.core.directory
    with console.core.store.transaction():
        directory.set_busy("bob", True)
    await console.run("@dana: status group:support\n@dana: status @bob")
    assert console.received("@dana")[-2] == "group:support Support — 1 ready (now)"
    assert console.last("@dana") == "@bob Bob Baker — busy · on console, slack, xmpp"
    assert stored_presence(console, "bob") == ("ready", None, 1)
    assert_counts_consistent(console)

    with console.core.store.transaction():
        directory.set_busy("bob", False)
    await console.run("@dana: status group:support")
    assert console.last("@dana") == "group:support Support — 2 ready (now)"
    assert_counts_consistent(console)


async def test_skill_count_excludes_busy_and_after_call_work_grp_4(console: Console) -> None:
    """GRP-4: `skill:spanish` counts only bob and eli while they are ready and not busy."""
    await console.run("@bob: ready\n@eli: ready\n@alice: status skill:spanish")
    assert console.last("@alice") == "skill:spanish Spanish speakers — 2 ready (now)"
    with console.core.store.transaction():
        console.core.directory.set_busy("bob", True)
    await console.run("@alice: status skill:spanish")
    assert console.last("@alice") == "skill:spanish Spanish speakers — 1 ready (now)"
    await console.run("@eli: aftercall\n@alice: status skill:spanish")
    assert console.last("@alice") == "skill:spanish Spanish speakers — 0 ready (now)"
    await console.run("@alice: find span")
    assert "skill:spanish Spanish speakers — 0 ready (now)" in console.last("@alice")
    assert_counts_consistent(console)
