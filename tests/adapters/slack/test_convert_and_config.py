"""Pure conversions, pacing and settings of the Slack adapter (ADP-2, OPS-1)."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from adapters.slack import PLUGIN
from adapters.slack.cards import card_blocks
from adapters.slack.convert import OpenTarget, Typed, from_action, from_slash, message_args
from adapters.slack.messages import Meant, from_event, meaning
from adapters.slack.modal import from_view_submission
from adapters.slack.pacing import Pacer
from bot.config import ConfigError, load_config
from bot.port import InteractionView, Priority, Say
from tests.adapters.slack.check import names, users
from tests.adapters.slack.driver import payload


def from_message(event: dict[str, object], event_id: str, iid: str | None) -> Typed | None:
    """The command a message event carries, written in the thread of ``iid``."""
    written = from_event(event, event_id, names)
    return meaning(written, iid, files_reach=True).typed if written else None


def test_slash_command_is_the_console_grammar_adp_2() -> None:
    """ADP-2: `/bl ready` → the command `ready` from the Slack user; trigger id dedupes."""
    command = from_slash(payload("slash_command"), names)
    assert command is not None
    assert (command.user, command.text) == ("U0ALICE", "ready")
    assert command.key and "1700000000.1234567890" in command.key
    assert from_slash({"text": "ready"}, names) is None


def test_buttons_become_commands_in_their_interaction_adp_2() -> None:
    """ADP-2: Accept → `accept i1` in i1; Consult opens a modal; the modal names the target."""
    accept = from_action(payload("block_actions"))
    assert isinstance(accept, Typed)
    assert (accept.text, accept.context) == ("accept i1", "i1")
    body = payload("block_actions")
    body["actions"][0].update(action_id="bl_consult")
    assert isinstance(from_action(body), OpenTarget)
    body["actions"][0].update(action_id="bl_coach", value="alice")
    coach = from_action(body)
    assert isinstance(coach, Typed) and coach.text == "coach @alice"
    submitted = from_view_submission(payload("view_submission"), names)
    assert submitted is not None
    assert (submitted.verb, submitted.typed, submitted.interaction) == ("consult", "@bob", "i1")
    body["actions"] = []
    assert from_action(body) is None


def test_thread_replies_are_say_and_bang_is_a_command_adp_2() -> None:
    """ADP-2: a reply in an interaction's thread is `say`; `!transfer` a command there."""
    body = payload("message_in_thread")
    say = from_message(body["event"], body["event_id"], "i1")
    ts = body["event"]["ts"]  # the message's ts: a later edit names it as the original
    assert say == Typed("U0ALICE", "say hello Ann", "slack:event:Ev0MSG00001", "i1", ts)
    body["event"]["text"] = "!hold"
    bang = from_message(body["event"], "Ev1", "i1")
    assert bang is not None and (bang.text, bang.context) == ("hold", "i1")
    assert from_message(body["event"], "Ev1", None) is None  # a thread backline doesn't know
    body["event"]["subtype"] = "channel_join"
    assert from_message(body["event"], "Ev2", "i1") is None
    written = from_event({**body["event"], "subtype": None}, "Ev3", names)
    assert written is not None and meaning(written, None, True) == Meant()


def test_notices_are_coloured_by_priority_msg_3() -> None:
    """MSG-3: a notice gets a colour bar; a plain message does not."""
    (notice,) = message_args("D1", Say("@a", "down", priority=Priority.HIGH, notice=True), users)
    assert notice["attachments"][0]["color"] == "#ecb22e"
    assert "text" not in notice  # shown once: in the attachment
    assert "attachments" not in message_args("D1", Say("@a", "hi"), users)[0]


def test_card_buttons_follow_the_state_int_4() -> None:
    """INT-4: an active chat shows Transfer/Consult/Conference/End; wrapup shows Done."""
    active = InteractionView(
        "i1",
        "chat",
        "i1 chat with Ann",
        "active",
        role="owner",
        connected=True,
        possible=frozenset({"transfer", "consult", "conference", "end"}),
    )
    labels = [
        e["text"]["text"]
        for b in card_blocks(active, users)
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert labels == ["Transfer", "Consult", "Conference", "End"]
    wrapup = InteractionView(
        "i1", "chat", "i1 chat with Ann", "wrapup", role="owner", connected=True
    )
    assert "Done" in str(card_blocks(wrapup, users))


def slack_settings(tmp_path: Path, text: str) -> list[str]:
    """The problems ``load_config`` reports for a ``[slack]`` table (none: ``[]``)."""
    path = tmp_path / "backline.toml"
    path.write_text("[slack]\nenabled = true\n" + text, encoding="utf-8")
    try:
        load_config(path, {}, {"slack": PLUGIN})
    except ConfigError as exc:
        return exc.problems
    return []


def test_example_secrets_refuse_to_start_ops_1(tmp_path: Path) -> None:
    """OPS-1: Slack enabled with the example token or secret is refused, each problem named
    with its file and line; a mode that does not exist is named too."""
    problems = slack_settings(tmp_path, "")
    assert any("slack.bot_token" in p and "example" in p for p in problems)
    assert any("slack.signing_secret" in p for p in problems)
    socket = slack_settings(tmp_path, 'mode = "socket"\nbot_token = "xoxb-1"\n')
    assert len(socket) == 1 and "slack.app_token" in socket[0]
    wrong = slack_settings(tmp_path, 'mode = "ws"\nbot_token = "xoxb-1"\nsigning_secret = "s"\n')
    assert len(wrong) == 1 and "slack.mode" in wrong[0] and ":3:" in wrong[0]
    assert slack_settings(tmp_path, 'bot_token = "xoxb-1"\nsigning_secret = "real"\n') == []


def test_slack_settings_come_from_env_ops_1() -> None:
    """OPS-1: `BACKLINE_SLACK_*` variables fill `[slack]`."""
    plugins = {"slack": PLUGIN}
    config = load_config(
        None,
        {
            "BACKLINE_SLACK_ENABLED": "true",
            "BACKLINE_SLACK_BOT_TOKEN": "xoxb-9",
            "BACKLINE_SLACK_SIGNING_SECRET": "real",
            "BACKLINE_SLACK_PACE_SECONDS": "0.5",
        },
        plugins,
    )
    assert config.slack.enabled and config.slack.bot_token == "xoxb-9"
    assert config.slack.pace_seconds == 0.5
    with pytest.raises(ConfigError):
        load_config(None, {"BACKLINE_SLACK_NOPE": "1"}, plugins)


async def test_pacer_spaces_messages_per_channel_adp_2() -> None:
    """ADP-2: one lane sends at most one job per gap; another lane is not held up."""
    sent: list[tuple[str, float]] = []

    async def failed(lane: str, job: object, exc: Exception) -> None:
        raise AssertionError(exc)

    pacer = Pacer(0.05, failed)
    for lane in ("a", "a", "a", "b"):

        async def job(lane: str = lane) -> None:
            sent.append((lane, time.monotonic()))

        pacer.submit(lane, job)
    await asyncio.wait_for(pacer.drain(), 5)
    await pacer.stop()
    a = [t for lane, t in sent if lane == "a"]
    assert all(later - earlier >= 0.045 for earlier, later in itertools.pairwise(a))
    b = next(t for lane, t in sent if lane == "b")
    assert b < a[-1]
