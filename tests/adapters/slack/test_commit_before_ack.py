"""Commit before acknowledging: a crash on either side of the commit loses nothing (ADP-2).

Slack retries an event it got no ack for (same ``event_id``, ``X-Slack-Retry-Num``). backline
commits each command before the ack leaves, so: killed after the commit, the retry finds the
command done and acts once; killed before it, nothing was acked and the retry acts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from slack_bolt.context.ack.async_ack import AsyncAck

from tests.adapters.slack.driver import SlackDriver, desk

REPLY = "You are not ready (lunch)."
SLACK_GIVES_UP = 0.5  # Slack waits three seconds; the test, less


def lunch_commands(slack: SlackDriver) -> int:
    """How many `notready lunch` commands the store logged."""
    events = slack.core.store.events(kind="command")
    return sum("notready lunch" in json.dumps(e.data) for e in events)


def desk_says(slack: SlackDriver, text: str) -> int:
    """How often alice's desk showed ``text`` at the top."""
    return [m.text for m in slack.stub.top(desk("alice"))].count(text)


async def hang(*_: Any, **__: Any) -> None:
    """backline stops answering here (until it is killed)."""
    await asyncio.Event().wait()


async def test_killed_between_commit_and_ack_the_retry_acts_once_adp_2(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADP-2: the command is stored when the ack would go out; backline is killed before it
    does; Slack's retry reaches the restarted backline, which does not act again and gives
    alice the one reply the first delivery never sent."""
    stored_at_ack: list[int] = []

    async def dies_acking(*_: Any, **__: Any) -> None:
        stored_at_ack.append(lunch_commands(slack))
        await hang()

    await slack.slash("alice", "ready")
    monkeypatch.setattr(AsyncAck, "__call__", dies_acking)
    event = slack.message_event("alice", desk("alice"), "notready lunch", None, "Ev0CRASH1")
    assert (await slack.post_event(event, timeout=SLACK_GIVES_UP))[0] == 0  # no ack reached Slack
    assert stored_at_ack == [1]
    monkeypatch.undo()
    await slack.restart()
    assert slack.presence("alice") == "not ready (lunch)"

    assert (await slack.post_retry(event))[0] == 200
    await slack.settle()
    assert lunch_commands(slack) == 1
    assert slack.presence("alice") == "not ready (lunch)"
    assert desk_says(slack, REPLY) == 1


async def test_a_late_ack_retried_while_running_acts_and_replies_once_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: Slack retries although backline answered (the ack was late): one command, one
    reply."""
    await slack.slash("alice", "ready")
    event = slack.message_event("alice", desk("alice"), "notready lunch", None, "Ev0LATE1")
    assert (await slack.post_event(event))[0] == 200
    assert (await slack.post_retry(event))[0] == 200
    await slack.settle()
    assert lunch_commands(slack) == 1
    assert desk_says(slack, REPLY) == 1


async def test_killed_before_commit_nothing_was_acked_and_the_retry_acts_adp_2(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADP-2: backline is killed inside the command's transaction: Slack got no ack, nothing
    of the command is stored, and Slack's retry to the restarted backline acts once."""
    acks: list[object] = []
    real_ack = AsyncAck.__call__

    async def recorded(self: AsyncAck, *args: Any, **kwargs: Any) -> Any:
        acks.append(args)
        return await real_ack(self, *args, **kwargs)

    await slack.slash("alice", "ready")
    monkeypatch.setattr(AsyncAck, "__call__", recorded)
    monkeypatch.setattr(slack.core, "settle", hang)  # runs before the commit
    event = slack.message_event("alice", desk("alice"), "notready lunch", None, "Ev0CRASH2")
    assert (await slack.post_event(event, timeout=SLACK_GIVES_UP))[0] == 0
    assert acks == []
    await slack.restart()
    assert lunch_commands(slack) == 0
    assert slack.presence("alice") == "ready"
    assert desk_says(slack, REPLY) == 0

    assert (await slack.post_retry(event))[0] == 200
    await slack.settle()
    assert len(acks) == 1
    assert lunch_commands(slack) == 1
    assert slack.presence("alice") == "not ready (lunch)"
    assert desk_says(slack, REPLY) == 1


async def test_a_command_that_cannot_be_handed_over_is_not_acked_adp_2(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADP-2: when the core cannot take the command at all, Slack gets a 500, not an ack, and
    its retry acts."""

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(slack.adapter.port, "command", broken)
    event = slack.message_event("alice", desk("alice"), "ready", None, "Ev0BROKEN")
    assert (await slack.post_event(event))[0] == 500
    monkeypatch.undo()
    assert (await slack.post_retry(event))[0] == 200
    await slack.settle()
    assert slack.presence("alice") == "ready"
    assert desk_says(slack, "You are ready.") == 1
