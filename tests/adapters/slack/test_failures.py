"""Web API failures: rate limits, server errors, lost channels — retried or reported (ADP-2)."""

from __future__ import annotations

from tests.adapters.slack.driver import SlackDriver, desk
from tests.adapters.slack.stub import Fault


async def chat_for_alice(slack: SlackDriver) -> None:
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.slash("alice", "accept i1")


async def say_ann(slack: SlackDriver, text: str) -> None:
    await slack.customer_says("Ann", text)


async def test_rate_limited_call_waits_retry_after_and_is_delivered_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: a 429 with Retry-After is waited out, then the message goes through once."""
    await chat_for_alice(slack)
    slack.stub.faults.append(
        Fault("chat.postMessage", status=429, error="ratelimited", retry_after="1")
    )
    await say_ann(slack, "are you there?")
    card = slack.stub.card(desk("alice"), "i1")
    assert slack.stub.thread(desk("alice"), card.ts).count("Ann: are you there?") == 1
    posts = [a for a in slack.stub.called("chat.postMessage") if "are you there" in a["text"]]
    assert len(posts) == 2  # the refused try and the one after Retry-After


async def test_server_errors_are_retried_adp_2(slack: SlackDriver) -> None:
    """ADP-2: two 500s in a row, then success: delivered once, in order."""
    await chat_for_alice(slack)
    slack.stub.faults.append(Fault("chat.postMessage", status=500, times=2))
    await say_ann(slack, "first")
    await say_ann(slack, "second")
    card = slack.stub.card(desk("alice"), "i1")
    thread = slack.stub.thread(desk("alice"), card.ts)
    assert thread[-2:] == ["Ann: first", "Ann: second"]


async def test_not_in_channel_reopens_the_conversation_adp_2(slack: SlackDriver) -> None:
    """ADP-2: `not_in_channel` → the DM is opened again and the message re-sent there."""
    await slack.slash("alice", "ready")
    opened = len(slack.stub.called("conversations.open"))
    slack.stub.faults.append(Fault("chat.postMessage", error="not_in_channel"))
    await slack.customer_arrives("Ann", "@alice", "hello again")
    assert len(slack.stub.called("conversations.open")) == opened + 2  # opened, then reopened
    card = slack.stub.card(desk("alice"), "i1")
    assert any("accept i1" in t for t in slack.stub.thread(desk("alice"), card.ts))


async def test_persistent_failure_is_reported_to_the_member_adp_2(slack: SlackDriver) -> None:
    """ADP-2: a message Slack keeps refusing is reported to the member with its text."""
    await chat_for_alice(slack)
    slack.stub.faults.append(Fault("chat.postMessage", status=500, times=4))
    await say_ann(slack, "lost?")
    tops = [m.text for m in slack.stub.top(desk("alice"))]
    report = [t for t in tops if "refused a message" in t]
    assert report and "Ann: lost?" in report[-1] and "ref " in report[-1]


async def test_expired_response_url_falls_back_to_the_desk_adp_2(slack: SlackDriver) -> None:
    """ADP-2: when the response_url is refused the reply lands in the member's DM."""
    form_url = slack.stub.response_url("gone")
    # the stub answers 404 for a response URL outside /response/: simulate an expired one
    slack.adapter.outlet.reply_via(form_url.replace("/response/", "/expired/"), "alice", "late")
    await slack.settle()
    assert "late" in [m.text for m in slack.stub.top(desk("alice"))]
