"""Help, refusals with refs (OPS-3), identity links and directory reloads (DIR-6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.events import Command
from bot.state import snapshot
from tests.support.console import Console, copy_rules

REF = re.compile(r"\(ref (?P<ref>[0-9a-f]{6})\)")


def ref_of(reply: str) -> str:
    match = REF.search(reply)
    assert match, f"no ref in {reply!r}"
    return match["ref"]


def stored_state(console: Console) -> dict[str, Any]:
    """Everything a refusal must leave alone: the snapshot and the per-member tables."""
    conn = console.core.store.conn
    return {
        "snapshot": snapshot(console.core.store),
        "favourites": list(conn.execute("SELECT * FROM favourites ORDER BY member_id, target")),
        "recents": list(conn.execute("SELECT * FROM recents ORDER BY member_id, target")),
        "presence": list(conn.execute("SELECT * FROM presence ORDER BY member_id")),
        "identities": list(conn.execute("SELECT * FROM identities ORDER BY platform, handle")),
        "links": list(conn.execute("SELECT * FROM links ORDER BY platform, handle")),
    }


def command_lines(reply: str) -> list[str]:
    """The command names listed by `help`."""
    return [line.split()[0] for line in reply.splitlines()[1:-1]]


# --- help -----------------------------------------------------------------------------------


async def test_help_lists_only_commands_the_role_allows(console: Console) -> None:
    """DIR-6 / RUL-5 / SUP-6 / MSG-2: supervision for supervisors; the rest for admins."""
    await console.run("@alice: help\n@sky: help\n@sam: help")
    supervising = ["monitor", "coach", "barge", "unmonitor"]
    admin = ["broadcast", "link", "reload"]
    alice = command_lines(console.last("@alice"))
    sky = command_lines(console.last("@sky"))
    sam = command_lines(console.last("@sam"))
    everyday = ["help", "whoami", "status", "ready", "notready", "aftercall", "logout", "find"]
    assert alice[: len(everyday)] == everyday
    assert {"accept", "consult", "transfer", "conference", "im", "say", "done"} <= set(alice)
    assert not set(alice) & {*supervising, *admin}
    assert sky == [c for c in sam if c not in admin]
    assert set(supervising) <= set(sky)
    assert [c for c in sam if c in admin] == admin
    assert console.last("@alice").splitlines()[-1] == "Type `help COMMAND` for more on one."


async def test_help_find_explains_the_search_dir_1(console: Console) -> None:
    """DIR-1: `help find` gives the usage and explains matching and ranking."""
    await console.run("@alice: help find")
    assert console.last("@alice") == "\n".join(
        [
            "`find TEXT [--page N]` — search the directory",
            "Searches members, groups, skills, queues and routing points by the start of any "
            "word of a name, id or handle; favourites and recent contacts come first.",
        ]
    )


async def test_help_for_an_unknown_command_and_typos_suggest_a_command(console: Console) -> None:
    """OPS-3: unknown command names are refused with a ref; close ones get "Did you mean"."""
    await console.run("@alice: help nosuch")
    reply = console.last("@alice")
    assert reply.startswith("Unknown command 'nosuch'.")
    assert "Type `help` for the list." in reply
    ref_of(reply)
    for line in ("redy", "help redy"):
        await console.run(f"@alice: {line}")
        reply = console.last("@alice")
        assert reply.startswith("Unknown command 'redy'. Did you mean `ready`")
        ref_of(reply)
    await console.run("@alice: fnd bob")
    assert console.last("@alice").startswith("Unknown command 'fnd'. Did you mean `find`")


async def test_typos_never_suggest_a_command_the_member_may_not_use(console: Console) -> None:
    """DIR-6: `relod` suggests `reload` to sam, the admin, but not to alice."""
    await console.run("@sam: relod\n@alice: relod")
    assert "Did you mean `reload`" in console.last("@sam")
    alice = console.last("@alice")
    assert alice.startswith("Unknown command 'relod'.")
    assert "`reload`" not in alice


@pytest.mark.parametrize(
    ("who", "line", "reply"),
    [
        ("@alice", "find", "`find`: missing arguments. Usage: `find TEXT [--page N]`"),
        ("@alice", "fav add @bob @chen", "`fav`: too many arguments. Usage: `fav [add|rm TARGET]`"),
        ("@alice", "ready now", "`ready`: too many arguments. Usage: `ready`"),
        ("@alice", "status @bob @chen", "`status`: too many arguments. Usage: `status [TARGET]`"),
        (
            "@sam",
            "link @bob slack",
            "`link`: missing arguments. Usage: `link @MEMBER PLATFORM HANDLE`",
        ),
    ],
)
async def test_wrong_argument_counts_give_the_usage(
    console: Console, who: str, line: str, reply: str
) -> None:
    """OPS-3: missing or too many arguments are refused with the usage and a ref."""
    await console.run(f"{who}: {line}")
    answer = console.last(who)
    assert answer.startswith(reply)
    ref_of(answer)


# --- OPS-3: refusals carry a ref, change nothing and are logged ----------------------------------

REFUSALS = [
    ("@alice", "notready nap"),
    ("@alice", "fav rm @dana"),
    ("@alice", "fav add @nobody"),
    ("@alice", "fav add group:nope"),
    ("@alice", "fav add bob"),
    ("@alice", "status @nobody"),
    ("@alice", "find bob --page 0"),
    ("@alice", "redy"),
    ("@alice", "find"),
    ("@alice", "link @bob slack U9"),
    ("@alice", "reload"),
    ("@sam", "link @bob slack U0ALICE"),
    ("@sam", "link group:support slack U9"),
    ("@sam", "link @bob console bob2"),
]


@pytest.mark.parametrize(("who", "line"), REFUSALS)
async def test_every_refusal_has_a_ref_changes_nothing_and_is_logged_ops_3(
    console: Console, who: str, line: str
) -> None:
    """OPS-3: a refusal shows a ref, leaves the stored state alone, and is a `refused` event."""
    await console.run("@alice: ready\n@bob: notready lunch\n@alice: fav add @bob")
    with console.core.store.transaction():
        console.core.directory.contacts.record_contact("alice", "@chen", failed=True)
    before = stored_state(console)
    commands_before = len(console.core.store.events(kind="command"))

    await console.run(f"{who}: {line}")

    ref = ref_of(console.last(who))
    assert stored_state(console) == before
    assert len(console.core.store.events(kind="command")) == commands_before
    refused = console.core.store.events(kind="refused")
    assert refused[-1].data["ref"] == ref
    assert refused[-1].data["text"] == line
    assert refused[-1].actor == who[1:]
    await console.run("@chen: status @alice\n@chen: status @bob")
    assert console.received("@chen")[-2:] == [
        "@alice Alice Anders — ready · on console, matrix, slack, xmpp",
        "@bob Bob Baker — not ready (lunch) · on console, slack, xmpp",
    ]


async def test_an_agent_using_link_is_refused_only_admins_dir_6(console: Console) -> None:
    """DIR-6: only admins may `link`; the agent is told so and nothing is linked."""
    await console.run("@alice: link @bob slack U9")
    assert console.last("@alice").startswith("Only admins can use `link`.")
    turn = await console.core.handle(Command("slack", "U9", "whoami"))
    assert turn.reply.startswith("I don't know who U9 on slack is.")


# --- DIR-6: links -----------------------------------------------------------------------------


async def test_admin_links_a_slack_handle_and_bob_is_recognised_dir_6(console: Console) -> None:
    """DIR-6: after `link @bob slack U9`, a command from slack U9 is answered as Bob."""
    await console.run("@sam: link @bob slack U9")
    assert console.last("@sam") == "Linked slack account 'U9' to @bob."
    turn = await console.core.handle(Command("slack", "U9", "whoami"))
    assert turn.outcome == "ok"
    assert turn.reply.startswith("You are Bob Baker (@bob), agent; groups: support")
    turn = await console.core.handle(Command("slack", "U9", "ready"))
    assert turn.reply == "You are ready."
    assert console.core.directory.presence("bob").state.value == "ready"


async def test_a_linked_handle_makes_the_member_reachable_and_findable_dir_6(
    console: Console,
) -> None:
    """DIR-6 / DIR-2 / DIR-1: fay, linked on slack, shows slack and is found by the handle."""
    await console.run("@sam: link @fay slack U9FAY\n@alice: find fay")
    assert console.last("@alice").splitlines()[1] == (
        "  1. @fay Fay Fischer — logged off · on console, slack · call, im"
    )
    await console.run("@alice: find U9FAY")
    assert console.last("@alice").splitlines()[1].startswith("  1. @fay Fay Fischer")


async def test_linking_someone_elses_handle_is_refused_dir_6(console: Console) -> None:
    """DIR-6: slack U0ALICE is alice's; linking it to bob is refused and alice keeps it."""
    await console.run("@sam: link @bob slack U0ALICE")
    refusal = console.last("@sam")
    assert refusal.startswith("slack identity 'U0ALICE' already belongs to @alice.")
    ref_of(refusal)
    turn = await console.core.handle(Command("slack", "U0ALICE", "whoami"))
    assert turn.reply.startswith("You are Alice Anders (@alice)")


async def test_an_unknown_sender_is_told_to_ask_an_admin_dir_6(console: Console) -> None:
    """DIR-6 / OPS-3: a stranger is told to ask an admin; the refusal has a ref and is logged."""
    turn = await console.core.handle(Command("slack", "U0STRANGER", "ready"))
    assert turn.outcome == "refused"
    assert turn.reply.startswith(
        "I don't know who U0STRANGER on slack is. "
        "Ask an admin to add you to the directory or to `link` your account."
    )
    ref = ref_of(turn.reply)
    refused = console.core.store.events(kind="refused")[-1]
    assert refused.data["ref"] == ref
    assert refused.data["sender"] == "U0STRANGER"
    assert refused.actor is None
    assert console.core.store.events(kind="command") == []


# --- DIR-6: reload ----------------------------------------------------------------------------

GIL = """\
  - id: gil
    name: Gil Green
    roles: [agent]
    handles: {slack: U0GIL}

groups:"""


async def test_reload_adds_a_member_and_keeps_presence_and_favourites_dir_6(
    tmp_path: Path,
) -> None:
    """DIR-6 / RUL-5: after adding gil to support and `reload`, gil is found; state is kept."""
    rules = copy_rules(tmp_path)
    console = Console(rules, tmp_path / "db")
    try:
        await console.run(
            "@alice: ready\n@bob: notready lunch\n@alice: fav add @bob\n@chen: fav add group:vip"
        )
        directory_file = rules / "directory.yaml"
        text = directory_file.read_text(encoding="utf-8")
        text = text.replace("\ngroups:", "\n" + GIL, 1).replace(
            "members: [alice, bob, chen]", "members: [alice, bob, chen, gil]", 1
        )
        directory_file.write_text(text, encoding="utf-8")

        await console.run("@alice: find gil")
        assert console.last("@alice") == "Nothing found for 'gil'."
        await console.run("@sam: reload")
        assert console.last("@sam") == (
            "Rules reloaded: directory and policy are current; presence and favourites are kept."
        )
        await console.run("@alice: find gil")
        assert console.last("@alice").splitlines()[1] == (
            "  1. @gil Gil Green — logged off · on console, slack · im"
        )
        await console.run("@alice: status\n@alice: status @bob\n@alice: fav\n@chen: fav")
        alice = console.received("@alice")
        assert "You are ready." in alice
        assert "@bob Bob Baker — not ready (lunch) · on console, slack, xmpp" in alice
        assert console.last("@alice").splitlines()[1].startswith("  @bob Bob Baker — not ready")
        assert console.last("@chen").splitlines()[1].startswith("  group:vip VIP desk")

        await console.run("@gil: ready\n@dana: status group:support")
        assert console.last("@dana") == "group:support Support — 2 ready (now)"
        turn = await console.core.handle(Command("slack", "U0GIL", "whoami"))
        assert turn.reply.startswith("You are Gil Green (@gil), agent; groups: support")
        directory = console.core.directory
        stored = dict(console.core.store.conn.execute("SELECT id, available FROM groups"))
        assert directory.counts() == directory.recount() == stored
    finally:
        console.close()


async def test_a_broken_reload_is_refused_with_file_and_key_and_the_old_directory_stays_dir_6(
    tmp_path: Path,
) -> None:
    """DIR-6 / RUL-5: a bad directory.yaml is not loaded; the reply names file, line and key."""
    rules = copy_rules(tmp_path)
    console = Console(rules, tmp_path / "db")
    try:
        await console.run("@bob: ready")
        directory_file = rules / "directory.yaml"
        lines = directory_file.read_text(encoding="utf-8").splitlines()
        at = lines.index("    members: [alice, bob, chen]")
        lines[at] = "    members: [alice, bob, chen, zed]"
        lines.insert(0, "# broken on purpose")
        directory_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

        await console.run("@sam: reload")
        reply = console.last("@sam")
        assert reply.startswith("The rules were not reloaded; the old rules stay. Problems:")
        assert f"directory.yaml:{at + 2}: groups[0].members: unknown member 'zed'" in reply
        ref = ref_of(reply)
        assert console.core.store.events(kind="refused")[-1].data["ref"] == ref

        await console.run("@alice: find bob\n@alice: status group:support")
        assert console.received("@alice")[-2].startswith("  1. @bob Bob Baker — ready")
        assert console.last("@alice") == "group:support Support — 1 ready (now)"
    finally:
        console.close()


async def test_a_link_survives_a_reload_and_a_restart_dir_6(tmp_path: Path) -> None:
    """DIR-6 / OPS-2: a linked identity still names bob after `reload` and after a restart."""
    rules = copy_rules(tmp_path)
    database = tmp_path / "db"
    console = Console(rules, database)
    try:
        await console.run("@sam: link @bob slack U9\n@sam: reload")
        assert console.last("@sam").startswith("Rules reloaded")
        turn = await console.core.handle(Command("slack", "U9", "whoami"))
        assert turn.reply.startswith("You are Bob Baker (@bob)")
    finally:
        console.close()
    restarted = Console(rules, database)
    try:
        turn = await restarted.core.handle(Command("slack", "U9", "whoami"))
        assert turn.reply.startswith("You are Bob Baker (@bob)")
    finally:
        restarted.close()


async def test_help_lists_the_calling_and_queue_commands_dir_3_grp_3(console: Console) -> None:
    """DIR-3 / GRP-3: `call`, `retry`, `queue` and `team` are in `help`, each explained."""
    await console.run("@alice: help")
    listed = command_lines(console.last("@alice"))
    assert {"call", "retry", "queue", "team"} <= set(listed)
    await console.run("@alice: help retry\n@alice: help queue")
    assert "`retry TARGET` — repeat your last failed attempt to reach a target" in (
        console.received("@alice")
    )
    assert "`queue [TARGET]` — what customers wait for, oldest first" in console.received("@alice")
