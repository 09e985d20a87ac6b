"""Supervisors monitor, coach and barge in on agents' interactions, via the console (SUP-1..7)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.state import snapshot
from tests.support.console import Console
from tests.support.state import edited_policy, mentioning, parties, presence, stored

REF = re.compile(r"\(ref [0-9a-f]{6}\)")


async def alice_on_a_call(console: Console, kind: str = "voice") -> None:
    """Ann's call (or chat) with alice, i1, active."""
    start = "sim call Ann @alice" if kind == "voice" else "sim chat Ann @alice hello"
    await console.run(f"@alice: ready\n@bob: ready\n{start}\n@alice: accept")
    assert stored(console, "i1")["state"] == "active"


def caught_up(kind: str, lines: list[str]) -> list[str]:
    """SUP-1: joining the chat mid-way, the supervisor first gets its contact and transcript
    so far (like a consultant); a call has no transcript. Returns the lines after that."""
    briefing = (
        ["Contact: Ann", "first message: hello", "Transcript so far:", "  Ann: hello"]
        if kind == "chat"
        else []
    )
    assert lines[1 : 1 + len(briefing)] == briefing
    return [lines[0], *lines[1 + len(briefing) :]]


@pytest.fixture
async def notifying(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `supervision.notify_agent: true`."""
    rules = edited_policy(tmp_path, "notify_agent: false", "notify_agent: true")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


@pytest.fixture
async def agent_scope(tmp_path: Path) -> AsyncIterator[Console]:
    """The demo with `supervision.scope: agent`."""
    rules = edited_policy(tmp_path, "scope: call ", "scope: agent ")
    driver = Console(rules, tmp_path / "db")
    yield driver
    driver.close()


# --- SUP-1: monitor (silent) ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["voice", "chat"])
async def test_monitor_hears_both_sides_and_nobody_hears_the_monitor_sup_1(
    console: Console, kind: str
) -> None:
    """SUP-1: sam hears Ann and alice; his `say` is refused with a hint; nobody is told."""
    await alice_on_a_call(console, kind)
    console.mark()
    await console.run(
        """
        @sam: monitor @alice
        sim say Ann FROM-ANN-1a
        @alice: say FROM-ALICE-2b
        @sam: say SILENT-3c
        """
    )
    sam = caught_up(kind, console.received("@sam"))
    assert sam[0] == f"You are monitoring @alice on i1 {kind} with Ann."
    assert sam[1:3] == ["(i1) Ann: FROM-ANN-1a", "(i1) @alice: FROM-ALICE-2b"]
    assert sam[3].startswith(
        "You are monitoring i1 silently. `coach @alice` to whisper to the agent or "
        "`barge @alice` to join."
    )
    assert REF.search(sam[3])
    assert console.received("@alice") == ["(i1) Ann: FROM-ANN-1a"]
    assert console.received("customer:Ann") == ["(i1) Alice Anders: FROM-ALICE-2b"]
    for who in ("@alice", "customer:Ann"):
        assert mentioning(console.received(who), "sam") == []
        assert mentioning(console.received(who), "Sam") == []
        assert mentioning(console.received(who), "SILENT-3c") == []
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@sam": ("monitor", True),
        "customer:Ann": ("customer", True),
    }
    # A monitor handles nothing: alice is still the owner, sam's presence is untouched.
    assert stored(console, "i1")["owner"] == "alice"
    assert presence(console, "sam") == "logged_off"
    # Not even the history tells the agent; a supervisor's history shows it.
    await console.run("@alice: history i1\n@sam: history i1")
    assert "History of i1:" in console.last("@alice")
    assert "sam" not in console.last("@alice")
    assert "joined role=monitor, who=@sam" in console.last("@sam")


async def test_monitor_is_announced_to_the_agent_when_the_rule_says_sup_1(
    notifying: Console,
) -> None:
    """SUP-1: with `supervision.notify_agent: true` alice is told, Ann still is not."""
    console = notifying
    await alice_on_a_call(console)
    console.mark()
    await console.run("@sam: monitor @alice\n@sam: leave")
    assert console.received("@alice") == [
        "(i1) @sam is monitoring you on i1.",
        "(i1) @sam stopped supervising you on i1.",
    ]
    assert console.received("customer:Ann") == []
    await console.run("@alice: history i1")
    assert "joined role=monitor, who=@sam" in console.last("@alice")


# --- SUP-2: coach (whisper) -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["voice", "chat"])
async def test_coach_whispers_to_the_agent_only_sup_2(console: Console, kind: str) -> None:
    """SUP-2: sam's whisper reaches alice only; Ann never sees it, nor in any transcript."""
    await alice_on_a_call(console, kind)
    console.mark()
    await console.run(
        """
        @sam: coach @alice
        @sam: say WHISPER-9c1 offer the discount
        sim say Ann FROM-ANN-4d
        @alice: say FROM-ALICE-5e
        """
    )
    sam = caught_up(kind, console.received("@sam"))
    assert sam[0] == f"You are coaching @alice on i1 {kind} with Ann."
    assert console.received("@alice") == [
        "(i1) (whisper) @sam: WHISPER-9c1 offer the discount",
        "(i1) Ann: FROM-ANN-4d",
    ]
    assert sam[1:] == ["(i1) Ann: FROM-ANN-4d", "(i1) @alice: FROM-ALICE-5e"]
    assert console.received("customer:Ann") == ["(i1) Alice Anders: FROM-ALICE-5e"]
    assert parties(console, "i1")["@sam"] == ("coach", True)
    said = console.core.store.events(subject="i1", kind="said")
    whispers = [e.data for e in said if e.data["who"] == "@sam"]
    assert whispers == [{"who": "@sam", "text": "WHISPER-9c1 offer the discount", "private": True}]

    # A colleague conferenced in later gets the transcript, without the whisper.
    console.mark()
    await console.run("@alice: conference @bob\n@bob: accept")
    assert mentioning(console.received("@bob"), "WHISPER-9c1") == []
    assert "  @alice: FROM-ALICE-5e" in console.received("@bob")
    assert mentioning(console.received("customer:Ann", since_mark=False), "WHISPER-9c1") == []


async def test_coach_whisper_never_reaches_the_customer_after_a_transfer_sup_2(
    console: Console,
) -> None:
    """SUP-2 / SUP-7: after alice transfers the chat to bob, sam (scope call) coaches bob.

    The whisper token reaches the agent of the moment, never Ann, on any path.
    """
    await alice_on_a_call(console, "chat")
    await console.run(
        """
        @sam: coach @alice
        @sam: say WHISPER-1aa before
        @alice: transfer @bob
        @bob: accept
        """
    )
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        "@sam": ("coach", True),
        "customer:Ann": ("customer", True),
    }
    assert mentioning(console.received("@bob", since_mark=False), "WHISPER-1aa") == []
    assert console.received("@sam")[-1] == "(i1) @alice left i1; you are now coaching @bob."
    console.mark()
    await console.run("@sam: say WHISPER-2bb after\nsim say Ann STILL-HERE-3cc")
    assert console.received("@bob") == [
        "(i1) (whisper) @sam: WHISPER-2bb after",
        "(i1) Ann: STILL-HERE-3cc",
    ]
    assert console.received("@alice") == []
    assert console.received("@sam") == ["(i1) Ann: STILL-HERE-3cc"]
    ann = console.received("customer:Ann", since_mark=False)
    assert mentioning(ann, "WHISPER") == []
    assert mentioning(ann, "Sam") == []


# --- SUP-3: barge in ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["voice", "chat"])
async def test_barge_everyone_hears_the_supervisor_sup_3(console: Console, kind: str) -> None:
    """SUP-3: sam barges in: alice and Ann are told and hear him; he hears them."""
    await alice_on_a_call(console, kind)
    console.mark()
    await console.run(
        """
        @sam: barge @alice
        @sam: say BARGE-6f hello both
        sim say Ann FROM-ANN-7a
        @alice: say FROM-ALICE-8b
        """
    )
    assert caught_up(kind, console.received("@sam")) == [
        f"You are barging in on @alice on i1 {kind} with Ann.",
        "(i1) Ann: FROM-ANN-7a",
        "(i1) @alice: FROM-ALICE-8b",
    ]
    assert console.received("@alice") == [
        "(i1) @sam barged in on i1.",
        "(i1) @sam: BARGE-6f hello both",
        "(i1) Ann: FROM-ANN-7a",
    ]
    assert console.received("customer:Ann") == [
        "(i1) Sam Stone joined.",
        "(i1) Sam Stone: BARGE-6f hello both",
        "(i1) Alice Anders: FROM-ALICE-8b",
    ]
    assert parties(console, "i1")["@sam"] == ("barger", True)
    assert stored(console, "i1")["owner"] == "alice"


# --- SUP-4: switch modes on the fly, then leave ------------------------------------------------


async def test_switch_monitor_coach_barge_then_leave_sup_4(console: Console) -> None:
    """SUP-4: monitor→coach→barge on the fly, then `leave`: the call goes on as before."""
    await alice_on_a_call(console)
    console.mark()
    await console.run("@sam: monitor @alice\n@sam: coach @alice")
    assert parties(console, "i1")["@sam"] == ("coach", True)
    await console.run("@sam: say SWITCH-WHISPER-1d")
    assert "(i1) (whisper) @sam: SWITCH-WHISPER-1d" in console.received("@alice")
    await console.run("@sam: barge @alice")
    assert parties(console, "i1")["@sam"] == ("barger", True)
    await console.run("@sam: say SWITCH-LOUD-2e")
    assert console.received("customer:Ann") == [
        "(i1) Sam Stone joined.",
        "(i1) Sam Stone: SWITCH-LOUD-2e",
    ]
    joins = [e.data["role"] for e in console.core.store.events(subject="i1", kind="joined")]
    assert joins[-3:] == ["monitor", "coach", "barger"]

    console.mark()
    await console.run("@sam: leave")
    assert console.received("@sam") == ["You stopped supervising i1."]
    assert console.received("@alice") == ["(i1) @sam left i1."]
    assert console.received("customer:Ann") == ["(i1) Sam Stone left."]

    console.mark()
    await console.run("sim say Ann AFTER-LEAVE-3f\n@alice: say ANSWER-4a\n@alice: hold")
    assert console.received("@sam") == []
    assert console.received("@alice")[0] == "(i1) Ann: AFTER-LEAVE-3f"
    assert console.received("customer:Ann") == [
        "(i1) Alice Anders: ANSWER-4a",
        "(i1) You are on hold.",
    ]
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@sam": ("barger", False),
        "customer:Ann": ("customer", True),
    }
    ix = stored(console, "i1")
    assert (ix["state"], ix["owner"]) == ("held", "alice")
    assert mentioning(console.received("customer:Ann", since_mark=False), "SWITCH-WHISPER") == []


# --- SUP-5: monitor @agent next ----------------------------------------------------------------


async def test_monitor_next_joins_the_agents_next_interaction_on_accept_sup_5(
    console: Console,
) -> None:
    """SUP-5: alice is idle; `monitor @alice next` makes sam a monitor when she accepts."""
    await console.run("@alice: ready")
    console.mark()
    await console.run("@sam: monitor @alice")
    refusal = console.received("@sam")[0]
    assert refusal.startswith(
        "@alice has no live interaction. `monitor @alice next` watches the next one."
    )
    assert REF.search(refusal)

    console.mark()
    await console.run("@sam: monitor @alice next\nsim call Ann @alice")
    assert console.received("@sam") == [
        "You will monitor @alice's next interactions until `unmonitor @alice`."
    ]
    assert "@sam" not in parties(console, "i1")  # ringing is not yet her interaction

    console.mark()
    await console.run("@alice: accept\nsim say Ann NEXT-5b")
    assert console.received("@sam") == [
        "(i1) You are monitoring @alice on i1 voice with Ann.",
        "(i1) Ann: NEXT-5b",
    ]
    assert mentioning(console.received("@alice"), "sam") == []
    assert mentioning(console.received("customer:Ann"), "Sam") == []
    assert parties(console, "i1") == {
        "@alice": ("owner", True),
        "@sam": ("monitor", True),
        "customer:Ann": ("customer", True),
    }


# --- SUP-6: only supervisors, only over their own groups ---------------------------------------


@pytest.mark.parametrize("command", ["monitor @alice", "coach @alice", "barge @alice"])
async def test_an_agent_cannot_supervise_sup_6(console: Console, command: str) -> None:
    """SUP-6: bob (an agent) is refused every SUP command; the attempt is a `refused` event."""
    await alice_on_a_call(console)
    before = snapshot(console.core.store)
    console.mark()
    await console.run(f"@bob: {command}")
    verb = command.split(maxsplit=1)[0]
    refusal = console.received("@bob")[0]
    assert refusal.startswith(f"Only supervisors can use `{verb}`.")
    assert REF.search(refusal)
    assert console.received("@alice") == console.received("customer:Ann") == []
    assert snapshot(console.core.store) == before
    refused = console.core.store.events(kind="refused")[-1]
    assert (refused.actor, refused.data["text"]) == ("bob", command)
    assert refused.data["ref"] in refusal


async def test_a_supervisor_of_another_group_is_refused_sup_6(console: Console) -> None:
    """SUP-6: sky supervises billing, not support: monitoring alice is refused and logged."""
    await alice_on_a_call(console)
    before = snapshot(console.core.store)
    console.mark()
    await console.run("@sky: monitor @alice\n@sky: monitor @alice next")
    for refusal in console.received("@sky"):
        assert refusal.startswith("You do not supervise any group of @alice.")
        assert REF.search(refusal)
    assert len(console.received("@sky")) == 2
    assert snapshot(console.core.store) == before
    refused = console.core.store.events(kind="refused")[-2:]
    assert [(e.actor, e.data["text"]) for e in refused] == [
        ("sky", "monitor @alice"),
        ("sky", "monitor @alice next"),
    ]
    # sky's own group is fine.
    await console.run("@dana: ready\nsim call Ben @dana\n@dana: accept\n@sky: monitor @dana")
    assert console.received("@sky")[-1] == "You are monitoring @dana on i2 voice with Ben."


async def test_any_supervisor_may_supervise_when_not_own_groups_only_sup_6(
    tmp_path: Path,
) -> None:
    """SUP-6: with `own_groups_only: false` sky may monitor alice."""
    rules = edited_policy(tmp_path, "own_groups_only: true", "own_groups_only: false")
    console = Console(rules, tmp_path / "db")
    try:
        await alice_on_a_call(console)
        console.mark()
        await console.run("@sky: monitor @alice\nsim say Ann SKY-HEARS-6c")
        assert console.received("@sky") == [
            "You are monitoring @alice on i1 voice with Ann.",
            "(i1) Ann: SKY-HEARS-6c",
        ]
        assert parties(console, "i1")["@sky"] == ("monitor", True)
    finally:
        console.close()


# --- SUP-7: subscriptions, leave, one voice at a time, scope ------------------------------------


async def test_monitor_next_follows_until_unmonitor_and_leave_ends_only_the_current_sup_7(
    console: Console,
) -> None:
    """SUP-7: the subscription follows alice through two interactions; `leave` ends only one;
    after `unmonitor @alice` her third interaction is not followed."""
    await console.run("@alice: ready\n@sam: monitor @alice next")
    await console.run("sim call Ann @alice\n@alice: accept")
    assert parties(console, "i1")["@sam"] == ("monitor", True)

    console.mark()
    await console.run("@sam: leave\nsim say Ann NOT-HEARD-7a")
    assert console.received("@sam") == ["You stopped supervising i1."]
    assert parties(console, "i1")["@sam"] == ("monitor", False)
    assert stored(console, "i1")["state"] == "active"

    await console.run("@alice: end\n@alice: done")
    console.mark()
    await console.run("sim chat Ben @alice hi\n@alice: accept\nsim say Ben SECOND-8b")
    assert console.received("@sam") == [  # SUP-1: joined mid-chat, so he catches up
        "(i2) You are monitoring @alice on i2 chat with Ben.",
        "(i2) Contact: Ben",
        "(i2) first message: hi",
        "(i2) Transcript so far:",
        "(i2)   Ben: hi",
        "(i2) Ben: SECOND-8b",
    ]
    assert parties(console, "i2")["@sam"] == ("monitor", True)

    console.mark()
    await console.run("@sam: unmonitor @alice")
    assert console.received("@sam") == [  # the current monitor ends too
        "You stopped supervising @alice on i2 and no longer follow @alice's next interactions."
    ]
    assert parties(console, "i2")["@sam"] == ("monitor", False)
    await console.run("@alice: end\n@alice: done i2\nsim chat Cat @alice hey\n@alice: accept")
    assert "@sam" not in parties(console, "i3")
    console.mark()
    await console.run("@sam: unmonitor @alice")
    assert console.received("@sam")[0].startswith(
        "You are neither supervising nor following @alice."
    )


async def test_one_voice_interaction_at_a_time_but_several_chats_sup_7(console: Console) -> None:
    """SUP-7: sam monitors one call; a second call is refused; he monitors two chats too."""
    await console.run(
        """
        @alice: ready
        @bob: ready
        @chen: ready
        sim call Ann @alice
        @alice: accept
        sim call Ben @bob
        @bob: accept
        sim chat Cat @chen hi
        @chen: accept
        sim chat Dot @chen hello
        @chen: accept i4
        """
    )
    console.mark()
    await console.run("@sam: monitor @alice\n@sam: monitor @bob")
    refusal = console.received("@sam")[1]
    assert refusal.startswith("You already supervise a voice interaction; `leave` it first")
    assert REF.search(refusal)
    assert "@sam" not in parties(console, "i2")

    console.mark()
    await console.run("@chen: focus i3\n@sam: monitor @chen\n@chen: focus i4\n@sam: monitor @chen")
    assert [line for line in console.received("@sam") if line.startswith("You are")] == [
        "You are monitoring @chen on i3 chat with Cat.",
        "You are monitoring @chen on i4 chat with Dot.",
    ]
    assert parties(console, "i1")["@sam"] == ("monitor", True)
    assert parties(console, "i3")["@sam"] == ("monitor", True)
    assert parties(console, "i4")["@sam"] == ("monitor", True)

    # Leaving the first call frees sam for the other one.
    console.mark()
    await console.run("@sam: leave i1\n@sam: monitor @bob\nsim say Ben VOICE-TWO-9c")
    assert "You are monitoring @bob on i2 voice with Ben." in console.received("@sam")
    assert "(i2) Ben: VOICE-TWO-9c" in console.received("@sam")


async def test_scope_call_keeps_the_supervisor_after_a_transfer_sup_7(console: Console) -> None:
    """SUP-7: `scope: call` (default): sam stays on Ann's call when alice transfers it to bob."""
    await alice_on_a_call(console)
    await console.run("@sam: monitor @alice")
    console.mark()
    await console.run("@alice: transfer @bob\n@bob: accept")
    assert console.received("@sam") == ["(i1) @alice left i1; you are now monitoring @bob."]
    assert mentioning(console.received("@bob"), "sam") == []
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        "@sam": ("monitor", True),
        "customer:Ann": ("customer", True),
    }
    console.mark()
    await console.run("sim say Ann AFTER-TRANSFER-1e\n@bob: say BOB-2f")
    assert console.received("@sam") == ["(i1) Ann: AFTER-TRANSFER-1e", "(i1) @bob: BOB-2f"]
    assert presence(console, "alice") == "after_call_work"


async def test_scope_agent_drops_the_supervisor_when_the_agent_leaves_sup_7(
    agent_scope: Console,
) -> None:
    """SUP-7: `scope: agent`: when alice transfers Ann's call away, sam's supervision ends."""
    console = agent_scope
    await alice_on_a_call(console)
    await console.run("@sam: coach @alice")
    console.mark()
    await console.run("@alice: transfer @bob\n@bob: accept")
    assert console.received("@sam") == ["(i1) @alice left i1; your supervision ended."]
    assert parties(console, "i1") == {
        "@alice": ("member", False),
        "@bob": ("owner", True),
        "@sam": ("coach", False),
        "customer:Ann": ("customer", True),
    }
    console.mark()
    await console.run("sim say Ann UNHEARD-3a\n@sam: say WHISPER-LATE-4b")
    assert console.received("@sam")[0].startswith("You are no longer connected to i1;")
    assert console.received("@bob") == ["(i1) Ann: UNHEARD-3a"]
    assert mentioning(console.received("customer:Ann", since_mark=False), "WHISPER") == []


async def test_subscriptions_respect_one_voice_at_a_time_sup_7(console: Console) -> None:
    """SUP-7: sam follows alice and bob; bob's call while sam is on alice's is not joined,
    sam is told why, and can monitor it once alice's call is over."""
    await console.run(
        """
        @alice: ready
        @bob: ready
        @sam: monitor @alice next
        @sam: monitor @bob next
        sim call Ann @alice
        @alice: accept
        """
    )
    console.mark()
    await console.run("sim call Ben @bob\n@bob: accept")
    assert console.received("@sam") == [
        "(i2) Could not follow @bob to i2: You already supervise a voice interaction; "
        "`leave` it first."
    ]
    assert "@sam" not in parties(console, "i2")
    assert mentioning(console.received("@bob"), "sam") == []

    console.mark()
    await console.run("@alice: end\n@sam: monitor @bob\nsim say Ben BEN-HEARD-5d")
    assert parties(console, "i1")["@sam"] == ("monitor", False)
    assert console.received("@sam")[-2:] == [
        "You are monitoring @bob on i2 voice with Ben.",
        "(i2) Ben: BEN-HEARD-5d",
    ]
    assert parties(console, "i2")["@sam"] == ("monitor", True)
