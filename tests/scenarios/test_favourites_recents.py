"""Favourites and recent contacts through the console (DIR-4)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.console import RULES, Console, copy_rules

REF = re.compile(r"\(ref [0-9a-f]{6}\)")


def favourites_table(console: Console) -> list[tuple[str, str]]:
    return list(
        console.core.store.conn.execute(
            "SELECT member_id, target FROM favourites ORDER BY member_id, target"
        )
    )


async def test_fav_add_and_list_with_presence_dir_4(console: Console) -> None:
    """DIR-4: `fav add @bob`, `fav add group:billing`; `fav` lists them with live presence."""
    await console.run("@alice: fav")
    assert console.last("@alice") == "No favourites yet. Add one with `fav add @bob`."
    await console.run("@alice: fav add @bob")
    assert console.last("@alice") == "Added @bob to your favourites."
    await console.clock.advance(1)
    await console.run("@alice: fav add group:billing")
    assert console.last("@alice") == "Added group:billing to your favourites."
    await console.run("@bob: notready lunch\n@dana: ready\n@alice: fav")
    assert console.last("@alice") == "\n".join(
        [
            "Favourites:",
            "  @bob Bob Baker — not ready (lunch) · on console, slack, xmpp · call, im",
            "  group:billing Billing — 1 ready (now) · call, im",
        ]
    )
    assert favourites_table(console) == [("alice", "@bob"), ("alice", "group:billing")]
    await console.run("@bob: fav")
    assert console.last("@bob") == "No favourites yet. Add one with `fav add @bob`."


async def test_fav_add_twice_says_already_dir_4(console: Console) -> None:
    """DIR-4: adding a favourite again says it already is one and stores it once."""
    await console.run("@alice: fav add @bob\n@alice: fav add @bob")
    assert console.last("@alice") == "@bob is already a favourite."
    assert favourites_table(console) == [("alice", "@bob")]


async def test_fav_rm_removes_and_refuses_a_non_favourite_dir_4(console: Console) -> None:
    """DIR-4: `fav rm` removes a favourite; removing one that is not a favourite is refused."""
    await console.run("@alice: fav add @bob\n@alice: fav add @chen\n@alice: fav rm @bob")
    assert console.last("@alice") == "Removed @bob from your favourites."
    assert favourites_table(console) == [("alice", "@chen")]
    await console.run("@alice: fav rm @bob")
    refusal = console.last("@alice")
    assert refusal.startswith("@bob is not one of your favourites.")
    assert REF.search(refusal)
    assert favourites_table(console) == [("alice", "@chen")]


async def test_fav_add_unknown_targets_are_refused_by_name_dir_4(console: Console) -> None:
    """DIR-4: `@nobody` and `group:nope` are named in the refusal; `bob` gets the hint `@bob`."""
    await console.run("@alice: fav add @nobody")
    assert console.last("@alice").startswith("Nobody called @nobody is in the directory.")
    await console.run("@alice: fav add group:nope")
    assert console.last("@alice").startswith("There is no group called 'nope'.")
    await console.run("@alice: fav add bob")
    hint = console.last("@alice")
    assert hint.startswith("'bob' is not a target.")
    assert "Did you mean @bob?" in hint
    await console.run("@alice: fav add")
    assert "Usage: `fav add TARGET`" in console.last("@alice")
    assert all(REF.search(reply) for reply in console.received("@alice"))
    assert favourites_table(console) == []


async def test_favourites_survive_a_restart_dir_4(tmp_path: Path) -> None:
    """DIR-4 / OPS-2: favourites are stored; a new process on the same database lists them."""
    database = tmp_path / "backline.db"
    first = Console(RULES, database)
    try:
        await first.run("@alice: fav add @bob\n@alice: fav add group:billing")
    finally:
        first.close()
    second = Console(RULES, database)
    try:
        await second.run("@alice: fav")
        assert second.last("@alice") == "\n".join(
            [
                "Favourites:",
                "  @bob Bob Baker — logged off · on console, slack, xmpp · call, im",
                "  group:billing Billing — 0 ready (now) · call, im",
            ]
        )
    finally:
        second.close()


async def test_recents_are_listed_newest_first_dir_4(console: Console) -> None:
    """DIR-4: `recent` lists the targets alice contacted, newest first."""
    await console.run("@alice: recent")
    assert console.last("@alice") == "No recent contacts yet."
    directory = console.core.directory
    for target in ("@dana", "group:vip", "@eli"):
        with console.core.store.transaction():
            directory.contacts.record_contact("alice", target)
        await console.clock.advance(5)
    with console.core.store.transaction():
        directory.contacts.record_contact("alice", "@dana")  # contacted again: newest now
    await console.run("@alice: recent")
    assert console.last("@alice") == "\n".join(
        [
            "Recent contacts:",
            "  @dana Dana Diaz — logged off · on console, slack · call, im",
            "  @eli Eli Ezra — logged off · on console, matrix · im",
            "  group:vip VIP desk — 0 ready (now) · call, im",
        ]
    )
    await console.run("@bob: recent")
    assert console.last("@bob") == "No recent contacts yet."


async def test_recents_come_first_in_find_dir_4(console: Console) -> None:
    """DIR-4 / DIR-1: a recent contact is listed before other matches of `find`."""
    await console.run("@alice: find s")
    assert console.last("@alice").splitlines()[1].startswith("  1. rp:sales ")
    with console.core.store.transaction():
        console.core.directory.contacts.record_contact("alice", "skill:spanish")
    await console.run("@alice: find s")
    assert console.last("@alice").splitlines()[1].startswith("  1. skill:spanish ")


def remove_fay(directory_file: Path) -> None:
    """Edit a copied directory.yaml: fay leaves the directory and the vip group."""
    text = directory_file.read_text(encoding="utf-8")
    fay = '  - id: fay\n    name: Fay Fischer\n    roles: [agent]\n    voice: "1006"\n'
    assert fay in text and "members: [fay]" in text
    text = text.replace(fay, "").replace("members: [fay]", "members: []")
    directory_file.write_text(text, encoding="utf-8")


async def test_fav_still_lists_after_a_favourite_left_the_directory_dir_4(
    tmp_path: Path,
) -> None:
    """DIR-4 / DIR-6: a reload that removes fay keeps alice's other favourites listable."""
    rules = copy_rules(tmp_path)
    directory_file = rules / "directory.yaml"
    console = Console(rules, tmp_path / "db")
    try:
        await console.run("@alice: fav add @fay\n@alice: fav add @bob")
        remove_fay(directory_file)
        await console.run("@sam: reload")
        assert console.last("@sam").startswith("Rules reloaded")
        await console.run("@alice: fav")
        reply = console.last("@alice")
        assert reply.startswith("Favourites:")
        assert "  @bob Bob Baker — logged off · on console, slack, xmpp · call, im" in reply
        assert not REF.search(reply)
    finally:
        console.close()


async def test_a_favourite_that_left_the_directory_can_be_removed_dir_4(tmp_path: Path) -> None:
    """DIR-4 / DIR-6: after fay left the directory, `fav rm @fay` still removes her."""
    rules = copy_rules(tmp_path)
    directory_file = rules / "directory.yaml"
    console = Console(rules, tmp_path / "db")
    try:
        await console.run("@alice: fav add @fay\n@alice: fav add @bob")
        remove_fay(directory_file)
        await console.run("@sam: reload\n@alice: fav rm @fay")
        assert console.last("@alice") == "Removed @fay from your favourites."
        assert favourites_table(console) == [("alice", "@bob")]
    finally:
        console.close()
