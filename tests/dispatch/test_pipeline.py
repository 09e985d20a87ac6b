"""The command pipeline: retried deliveries act once, crashes roll back, refusals stay quiet."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from bot.core import Core
from bot.directory.presence import PresenceState
from bot.dispatch.table import CommandTable, Handler
from bot.dispatch.turn import Turn
from bot.errors import CommandError
from bot.events import Command
from tests.support.console import Console

REF = re.compile(r"\(ref (?P<ref>[0-9a-f]{6})\)")


def replace_handler(core: Core, name: str, handler: Handler) -> None:
    """Give command ``name`` another handler, through a new command table."""
    specs = [
        dataclasses.replace(spec, handler=handler) if spec.name == name else spec
        for spec in core.commands.specs
    ]
    core.commands = CommandTable(specs)


def stored_state(core: Core, member: str) -> str:
    row = core.store.conn.execute(
        "SELECT state FROM presence WHERE member_id = ?", (member,)
    ).fetchone()
    return str(row[0])


# --- dedupe (ADP-2: retries are deduped) --------------------------------------------------------


async def test_the_same_delivery_key_acts_once_adp_2(console: Console) -> None:
    """ADP-2 / DIR-5: a retried delivery (same key) is not acted on again; same reply."""
    core = console.core
    first = await core.handle(Command("console", "alice", "ready", key="evt-1"))
    second = await core.handle(Command("console", "alice", "ready", key="evt-1"))

    assert first.reply == "You are ready."
    assert not first.duplicate
    assert second.duplicate
    assert second.outcome == "duplicate"
    assert second.reply == first.reply
    assert len(core.store.events(kind="command")) == 1
    assert len(core.store.events(kind="presence", subject="@alice")) == 1

    third = await core.handle(Command("console", "alice", "notready lunch", key="evt-2"))
    assert third.reply == "You are not ready (lunch)."
    assert len(core.store.events(kind="command")) == 2


async def test_delivery_keys_are_kept_a_day_then_forgotten_adp_2(console: Console) -> None:
    """ADP-2: a key is remembered for a day (every platform retry falls within it), then
    the hourly sweep drops it, so the key table does not grow with every message ever."""
    core = console.core
    await core.handle(Command("console", "alice", "ready", key="evt-old"))
    await console.run("tick 23h")
    await core.handle(Command("console", "alice", "notready lunch", key="evt-new"))
    retried = await core.handle(Command("console", "alice", "ready", key="evt-old"))
    assert retried.duplicate  # 23 h on: still a retry

    await console.run("tick 2h")  # evt-old is 25 h old, evt-new 2 h
    keys = core.store.conn.execute("SELECT key FROM idempotency ORDER BY key").fetchall()
    assert keys == [("evt-new",)]
    assert core.store.recall("evt-new") == [{"to": "@alice", "text": "You are not ready (lunch)."}]


async def test_a_duplicate_delivers_nothing_again_adp_2(console: Console) -> None:
    """ADP-2: messages a command sends to others are delivered once, even if it is retried."""

    async def nudge(core: Core, turn: Turn) -> str:
        turn.tell("@bob", "alice says hello")
        return "Sent."

    replace_handler(console.core, "whoami", nudge)
    for _ in range(2):
        await console.core.handle(Command("console", "alice", "whoami", key="evt-9"))
    assert console.received("@bob") == ["alice says hello"]


# --- internal errors (OPS-3) ------------------------------------------------------------------


async def test_an_internal_error_replies_with_a_ref_the_log_carries_ops_3(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    """OPS-3: a crashing handler gets "something went wrong (ref …)"; the log has that ref."""

    async def crash(core: Core, turn: Turn) -> str:
        raise RuntimeError("disk on fire")

    replace_handler(console.core, "ready", crash)
    with caplog.at_level(logging.ERROR, logger="backline.dispatch"):
        await console.run("@alice: ready")
    reply = console.last("@alice")
    assert reply.startswith("Sorry, something went wrong on our side (ref ")
    assert "disk on fire" not in reply
    match = REF.search(reply)
    assert match
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert f"ref={match['ref']}" in errors[0].getMessage()
    assert errors[0].exc_info is not None


async def test_an_internal_error_rolls_back_what_the_handler_wrote_ops_3(
    console: Console,
) -> None:
    """OPS-3 / OPS-2: a handler that set presence and then crashed leaves the store unchanged."""

    async def half_done(core: Core, turn: Turn) -> str:
        core.directory.set_presence(turn.me.id, PresenceState.READY)
        raise RuntimeError("crash after the write")

    replace_handler(console.core, "ready", half_done)
    await console.run("@alice: ready")
    assert "something went wrong" in console.last("@alice")
    core = console.core
    assert stored_state(core, "alice") == "logged_off"
    assert core.store.events(kind="presence") == []
    assert core.store.events(kind="command") == []
    stored = dict(core.store.conn.execute("SELECT id, available FROM groups"))
    assert stored["group:support"] == 0


async def test_after_a_crash_members_see_the_presence_that_was_stored_dir_5(
    console: Console,
) -> None:
    """DIR-5 / GRP-2: after a rolled-back crash, `status` and counts show no phantom change."""

    async def half_done(core: Core, turn: Turn) -> str:
        core.directory.set_presence(turn.me.id, PresenceState.READY)
        raise RuntimeError("crash after the write")

    replace_handler(console.core, "ready", half_done)
    await console.run("@alice: ready\n@alice: status\n@bob: status group:support")
    assert console.last("@alice") == "You are logged off."
    assert console.last("@bob") == "group:support Support — 0 ready (now)"
    directory = console.core.directory
    assert directory.counts() == directory.recount()


# --- refusals deliver nothing -----------------------------------------------------------------


async def test_a_refused_command_delivers_none_of_its_messages_ops_3(console: Console) -> None:
    """OPS-3: messages queued by a handler that then refuses are never delivered."""

    async def tell_then_refuse(core: Core, turn: Turn) -> str:
        turn.tell("@bob", "you should never see this")
        raise CommandError("Not now.")

    async def tell(core: Core, turn: Turn) -> str:
        turn.tell("@bob", "hello from alice")
        return "Told bob."

    replace_handler(console.core, "whoami", tell_then_refuse)
    await console.run("@alice: whoami")
    refusal = console.last("@alice")
    assert refusal.startswith("Not now. (ref ")
    assert console.received("@bob") == []

    replace_handler(console.core, "whoami", tell)
    await console.run("@alice: whoami")
    assert console.last("@alice") == "Told bob."
    assert console.received("@bob") == ["hello from alice"]
