"""`find` through the console: matching, ranking, paging, presence and actions (DIR-1…3)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.console import Console, copy_rules

REF = re.compile(r"\(ref [0-9a-f]{6}\)")
RESULT = re.compile(r"^\s+\d+\. (?P<ref>\S+) ")


def found(reply: str) -> list[str]:
    """The refs of a `find` reply, in the order shown."""
    return [m["ref"] for m in map(RESULT.match, reply.splitlines()) if m]


@pytest.fixture
async def small_pages(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `search.page_size: 2`."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    old = "page_size: 10                 # results of `find`"
    assert old in text
    policy.write_text(text.replace(old, "page_size: 2  # results of `find`"), encoding="utf-8")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


TIERS_DIRECTORY = """\
members:
  - id: aaron
    name: Aaron Joannes
  - id: bella
    name: Bella Annabel
  - id: ann
    name: Zed Zulu
  - id: viewer
    name: Val Viewer
"""


@pytest.fixture
async def tiers(tmp_path: Path) -> AsyncIterator[Console]:
    """A directory where the query `ann` matches one member per tier.

    By name the order would be Aaron, Bella, Zed; by rank it is the exact id `ann`
    (Zed Zulu), then the word prefix `Annabel` (Bella), then `Joannes` containing `ann`.
    """
    rules = copy_rules(tmp_path)
    (rules / "directory.yaml").write_text(TIERS_DIRECTORY, encoding="utf-8")
    (rules / "policy.yaml").write_text("", encoding="utf-8")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


# --- DIR-1: what matches --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("U0BOB", "@bob"),  # slack handle
        ("bob@localhost", "@bob"),  # xmpp handle
        ("@eli:localhost", "@eli"),  # matrix handle
        ("anders", "@alice"),  # second word of the name
        ("fisch", "@fay"),  # prefix of a name word
        ("dana", "@dana"),  # id
    ],
)
async def test_find_matches_names_ids_and_handles_on_any_platform_dir_1(
    console: Console, query: str, expected: str
) -> None:
    """DIR-1: a member is found by a word of the name, the id or a handle on any platform."""
    await console.run(f"@sam: find {query}")
    reply = console.last("@sam")
    assert reply.startswith(f"Found for '{query}' (page 1):")
    assert found(reply)[0] == expected


async def test_find_li_matches_the_start_of_any_word_dir_1(console: Console) -> None:
    """DIR-1: `li` is the start of "Li" (Chen Li) and of "line" (Sales line), not inside "Alice"."""
    await console.run("@bob: find li")
    assert found(console.last("@bob")) == ["@chen", "rp:sales"]


@pytest.mark.parametrize(
    ("query", "line"),
    [
        ("span", "skill:spanish Spanish speakers — 0 ready (now)"),
        ("overflow", "queue:overflow Overflow queue → group:support, group:billing"),
        ("sales", "rp:sales Sales line → group:support"),
        ("bill", "group:billing Billing — 0 ready (now)"),
    ],
)
async def test_find_groups_skills_queues_and_routing_points_dir_1(
    console: Console, query: str, line: str
) -> None:
    """DIR-1: groups, skills, queues and routing points are found like members."""
    await console.run(f"@alice: find {query}")
    assert console.last("@alice").splitlines()[1].startswith(f"  1. {line}")


async def test_find_nothing_says_so_dir_1(console: Console) -> None:
    """DIR-1: a search without results says so."""
    await console.run("@alice: find zzz")
    assert console.last("@alice") == "Nothing found for 'zzz'."


async def test_ranking_is_exact_then_prefix_then_contains_dir_1(tiers: Console) -> None:
    """DIR-1: exact (id `ann`) > prefix (`Annabel`) > contains (`Joannes`), whatever the names."""
    await tiers.run("@viewer: find ann")
    assert found(tiers.last("@viewer")) == ["@ann", "@bella", "@aaron"]


async def test_favourites_then_recents_come_first_dir_1(console: Console) -> None:
    """DIR-1: for `find s` alice's favourite @sky, then her recent rp:sales, then the rest."""
    await console.run("@alice: find s")
    assert found(console.last("@alice")) == [
        "rp:sales",
        "@sam",
        "@sky",
        "skill:spanish",
        "group:support",
    ]
    await console.run("@alice: fav add @sky")
    with console.core.store.transaction():
        console.core.directory.contacts.record_contact("alice", "group:support")
    await console.run("@alice: find s")
    assert found(console.last("@alice")) == [
        "@sky",
        "group:support",
        "rp:sales",
        "@sam",
        "skill:spanish",
    ]
    await console.run("@bob: find s")
    assert found(console.last("@bob"))[0] == "rp:sales", "favourites are per member"


# --- DIR-1: paging --------------------------------------------------------------------------


async def test_find_pages_with_a_more_hint_dir_1(small_pages: Console) -> None:
    """DIR-1: with `search.page_size: 2`, results come two per page with a "More:" hint."""
    await small_pages.run("@alice: find s")
    first = small_pages.last("@alice")
    assert found(first) == ["rp:sales", "@sam"]
    assert first.splitlines()[-1] == "More: `find s --page 2`"
    await small_pages.run("@alice: find s --page 2")
    second = small_pages.last("@alice")
    assert second.splitlines()[0] == "Found for 's' (page 2):"
    assert second.splitlines()[1].startswith("  3. @sky ")
    assert found(second) == ["@sky", "skill:spanish"]
    assert second.splitlines()[-1] == "More: `find s --page 3`"
    await small_pages.run("@alice: find s --page 3")
    third = small_pages.last("@alice")
    assert found(third) == ["group:support"]
    assert "More:" not in third
    await small_pages.run("@alice: find s --page 4")
    assert small_pages.last("@alice") == "Nothing found for 's' on page 4."


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("find s --page 0", "Pages start at 1."),
        ("find s --page x", "`--page` needs a page number, e.g. `find bob --page 2`."),
        ("find s --page", "`--page` needs a page number, e.g. `find bob --page 2`."),
    ],
)
async def test_bad_page_numbers_are_refused_dir_1(
    small_pages: Console, line: str, message: str
) -> None:
    """DIR-1: a page that is not a positive number is refused with a ref."""
    await small_pages.run(f"@alice: {line}")
    reply = small_pages.last("@alice")
    assert reply.startswith(message)
    assert REF.search(reply)


# --- DIR-2: presence and platforms in results -------------------------------------------------


async def test_member_results_show_presence_with_reason_and_platforms_dir_2(
    console: Console,
) -> None:
    """DIR-2: each member result shows presence (with a not-ready reason) and platforms."""
    await console.run("@bob: notready lunch\n@alice: find bob")
    assert console.last("@alice").splitlines()[1] == (
        "  1. @bob Bob Baker — not ready (lunch) · on console, slack, xmpp · call, im"
    )
    await console.run("@alice: find alice")
    assert console.last("@alice").splitlines()[1] == (
        "  1. @alice Alice Anders — logged off · on console, matrix, slack, xmpp (you)"
    )
    await console.run("@eli: aftercall\n@alice: find eli")
    assert console.last("@alice").splitlines()[1] == (
        "  1. @eli Eli Ezra — after call work · on console, matrix · im"
    )
    await console.run("@fay: ready\n@alice: find fay")
    assert console.last("@alice").splitlines()[1] == (
        "  1. @fay Fay Fischer — ready · on console · call, im"
    )
    with console.core.store.transaction():
        console.core.directory.set_busy("fay", True)
    await console.run("@alice: find fay")
    assert console.last("@alice").splitlines()[1] == (
        "  1. @fay Fay Fischer — busy · on console · call, im"
    )


# --- DIR-3: actions -------------------------------------------------------------------------


async def test_call_is_offered_only_with_a_voice_endpoint_dir_3(console: Console) -> None:
    """DIR-3: bob has extension 1002 (call, im); eli has no voice endpoint (im only)."""
    await console.run("@alice: find bob")
    assert console.last("@alice").splitlines()[1].endswith(" · call, im")
    await console.run("@alice: find eli")
    line = console.last("@alice").splitlines()[1]
    assert line.endswith(" · im")
    assert "call" not in line


async def test_retry_is_offered_after_a_failed_contact_dir_3(console: Console) -> None:
    """DIR-3: after a failed attempt to reach bob, alice is offered `retry`; others are not."""
    directory = console.core.directory
    with console.core.store.transaction():
        directory.contacts.record_contact("alice", "@bob", failed=True)
    await console.run("@alice: find bob\n@chen: find bob")
    assert console.last("@alice").splitlines()[1].endswith(" · call, im, retry")
    assert console.last("@chen").splitlines()[1].endswith(" · call, im")
    with console.core.store.transaction():
        directory.contacts.record_contact("alice", "@bob")
    await console.run("@alice: find bob")
    assert console.last("@alice").splitlines()[1].endswith(" · call, im")


async def test_no_actions_on_yourself_dir_3(console: Console) -> None:
    """DIR-3: your own result is marked "(you)" and offers no actions."""
    await console.run("@eli: find eli")
    line = console.last("@eli").splitlines()[1]
    assert line == "  1. @eli Eli Ezra — logged off · on console, matrix (you)"
