"""Requests as Slack sends them: signatures, stale or malformed bodies, retries (ADP-2)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

from tests.adapters.slack.driver import SlackDriver, desk, payload, sign
from tests.adapters.slack.stub import SlackStub


def stored_events(slack: SlackDriver) -> int:
    return len(slack.core.store.events())


def calls_after_start(slack: SlackDriver) -> list[str]:
    """Web API methods called since start-up's ``auth.test``."""
    return [method for method, _ in slack.stub.calls if method != "auth.test"]


async def test_url_verification_echoes_the_challenge_adp_2(slack: SlackDriver) -> None:
    """ADP-2: the Events API handshake."""
    body = payload("url_verification")
    status, text = await slack.post_event(body)
    assert status == 200
    assert body["challenge"] in text


async def test_bad_signature_is_refused_and_nothing_stored_adp_2(slack: SlackDriver) -> None:
    """ADP-2: a body signed with another secret gets 401; no command runs, no call is made."""
    before = stored_events(slack)
    form = {**payload("slash_command"), "response_url": slack.stub.response_url("x")}
    body = urlencode(form)
    assert slack.session is not None
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret="nope")}
    async with slack.session.post(slack.url, data=body, headers=headers) as resp:
        assert resp.status == 401
    await slack.settle()
    assert stored_events(slack) == before
    assert slack.stub.responses == [] and calls_after_start(slack) == []


async def test_stale_timestamp_is_refused_adp_2(slack: SlackDriver) -> None:
    """ADP-2: a correctly signed request older than 5 minutes is a replay: 401."""
    before = stored_events(slack)
    body = urlencode(payload("slash_command"))
    assert slack.session is not None
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign(body, timestamp=int(time.time()) - 301),
    }
    async with slack.session.post(slack.url, data=body, headers=headers) as resp:
        assert resp.status == 401
    async with slack.session.post(slack.url, data=body) as resp:  # not signed at all
        assert resp.status == 401
    await slack.settle()
    assert stored_events(slack) == before


async def test_malformed_bodies_get_400_adp_2(slack: SlackDriver) -> None:
    """ADP-2: signed but unreadable bodies are refused with 400; nothing stored."""
    before = stored_events(slack)
    assert (await slack.post("{not json", "application/json"))[0] == 400
    assert (await slack.post("payload=%7Bbroken", "application/x-www-form-urlencoded"))[0] == 400
    assert (await slack.post("hello=world", "application/x-www-form-urlencoded"))[0] == 400
    await slack.settle()
    assert stored_events(slack) == before
    assert calls_after_start(slack) == []


async def test_retried_event_acts_once_adp_2(slack: SlackDriver) -> None:
    """ADP-2: Slack retries an event (X-Slack-Retry-Num) with the same event_id: one message."""
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hi")
    await slack.slash("alice", "accept i1")
    card = slack.stub.card(desk("alice"), "i1")
    event = slack.message_event("alice", desk("alice"), "only once please", card.ts, "Ev0RETRY1")
    assert (await slack.post_event(event))[0] == 200
    assert (await slack.post_retry(event))[0] == 200
    await slack.settle()
    assert slack.customers.text().count("only once please") == 1


async def test_retried_slash_command_acts_once_adp_2(slack: SlackDriver) -> None:
    """ADP-2: the same trigger id delivered twice runs the command once, replies once."""
    await slack.slash("alice", "ready", trigger="1700000000.42.same")
    await slack.slash("alice", "notready lunch", trigger="1700000000.43.same")
    await slack.slash("alice", "notready lunch", trigger="1700000000.43.same")
    presence = slack.presence("alice")
    assert presence == "not ready (lunch)"
    commands = [e for e in slack.core.store.events(kind="command") if "lunch" in json.dumps(e.data)]
    assert len(commands) == 1
    assert [r["text"] for r in slack.stub.responses].count("You are not ready (lunch).") == 1


async def test_every_request_is_acknowledged_before_the_work_adp_2(slack: SlackDriver) -> None:
    """ADP-2: the HTTP answer is the bare ack; the reply comes later via response_url."""
    form = {
        **payload("slash_command"),
        "text": "help",
        "response_url": slack.stub.response_url("h"),
    }
    status, text = await slack.post_form(form)
    assert status == 200 and text == ""
    await slack.settle()
    assert "help" in slack.stub.responses[-1]["text"].lower()
    assert slack.stub.responses[-1]["response_type"] == "ephemeral"


async def test_signed_ssl_check_gets_200_and_unsigned_401_adp_2(slack: SlackDriver) -> None:
    """ADP-2: Slack's `ssl_check=1` probe, signed, is answered 200 and does nothing."""
    before = stored_events(slack)
    status, _ = await slack.post_form({"ssl_check": "1", "token": "gIkuvaNzQIHg97ATvDxqgjtO"})
    assert status == 200
    assert slack.session is not None
    async with slack.session.post(slack.url, data="ssl_check=1") as resp:
        assert resp.status == 401
    assert stored_events(slack) == before and calls_after_start(slack) == []


async def test_auth_test_runs_at_start_up_not_in_the_first_ack_adp_2(
    tmp_path: Path, stub: SlackStub
) -> None:
    """ADP-2: `auth.test` is asked once, at start-up; a slow one (3.5 s) delays no ack."""
    stub.delays["auth.test"] = 0.5
    slack = SlackDriver(tmp_path / "backline.db", stub)
    await slack.start()
    try:
        assert [m for m, _ in stub.calls] == ["auth.test"]
        stub.delays["auth.test"] = 3.5
        started = time.monotonic()
        form = {**payload("slash_command"), "response_url": stub.response_url("first")}
        status, _ = await slack.post_form(form)
        assert status == 200 and time.monotonic() - started < 1.0
        await slack.settle()
        assert stub.responses[-1]["text"] == "You are ready."
        assert [m for m, _ in stub.calls].count("auth.test") == 1
    finally:
        await slack.stop()
