"""App Home (DIR-5, MSG-1, MSG-4), offers timing out visibly (INT-3), restart (OPS-2)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.clock import FakeClock
from tests.adapters.slack.driver import SlackDriver, desk, payload
from tests.adapters.slack.stub import SlackStub, buttons


def home_text(stub: SlackStub, user: str) -> str:
    return json.dumps(stub.homes[user])


async def test_app_home_shows_presence_messages_mailboxes_dir_5_msg_1_msg_4(
    slack: SlackDriver,
) -> None:
    """DIR-5 / MSG-1 / MSG-4: presence with a selector of reasons, My Messages newest first with
    priority colours, mailbox counts; choosing a presence changes it and refreshes the tab."""
    await slack.slash("sam", "broadcast --priority high --to @alice first notice")
    await slack.slash("sam", "broadcast --to @alice second notice")
    assert await slack.open_home("alice") == 200
    view = slack.stub.homes["U0ALICE"]
    text = json.dumps(view)
    assert view["type"] == "home"
    assert "logged off" in text and "Not ready: lunch" in text and "After call work" in text
    assert text.index("second notice") < text.index("first notice")  # newest first
    assert ":large_orange_circle:" in text  # high priority colour
    assert "`alice` 0 new, 0 old" in text

    body = payload("home_presence_select")
    assert (await slack.post_payload(body))[0] == 200
    await slack.settle()
    assert slack.presence("alice") == "not ready (lunch)"
    assert "*Presence:* not ready (lunch)" in home_text(slack.stub, "U0ALICE")


async def test_notice_preview_carries_its_priority_colour_msg_3(slack: SlackDriver) -> None:
    """MSG-3: a system message is pushed to the desk with a colour bar by priority, and its
    text shows once (in the coloured attachment, not also as the message text)."""
    await slack.slash("sam", "broadcast --priority urgent --to @alice fire drill")
    notice = [m for m in slack.stub.top(desk("alice")) if "fire drill" in m.shown][-1]
    assert notice.attachments[0]["color"] == "#e01e5a"
    assert notice.shown.count("fire drill") == 1 and notice.text == ""
    assert "fire drill" in notice.attachments[0]["fallback"]  # the notification


async def test_an_offer_that_times_out_shows_it_on_the_card_int_3(slack: SlackDriver) -> None:
    """INT-3: the Accept/Decline buttons go away when the offer times out."""
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    assert buttons(slack.stub.card(desk("alice"), "i1")) == ["Accept", "Decline"]
    clock = slack.core.clock
    assert isinstance(clock, FakeClock)
    await clock.advance(60)
    await slack.settle()
    card = slack.stub.card(desk("alice"), "i1")
    assert "Accept" not in buttons(card)
    assert "No longer offered to you" in json.dumps(card.blocks)


async def test_threads_survive_a_restart_adp_2(slack: SlackDriver) -> None:
    """ADP-2 / OPS-2: after a restart a reply in an existing thread still reaches the chat."""
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.click("alice", desk("alice"), "i1", "Accept")
    card = slack.stub.card(desk("alice"), "i1")
    await slack.restart()
    await slack.write("alice", desk("alice"), "still here after a restart", card.ts)
    assert "still here after a restart" in slack.customers.text()
    assert len(slack.stub.cards(desk("alice"))) == 1  # no second card for i1
    versions = slack.core.store.conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'slack'"
    ).fetchall()
    assert versions == [("0001_threads",)]  # the adapter's own version row, applied once


async def test_threads_of_a_release_before_migrations_are_kept_adp_2(
    tmp_path: Path, stub: SlackStub
) -> None:
    """ADP-2: a database whose Slack tables an older release created on start (no version
    row) is adopted by the first migration: its lane's DM is not opened again."""
    database = tmp_path / "backline.db"
    with sqlite3.connect(database) as old:
        old.execute("CREATE TABLE slack_channels (lane TEXT PRIMARY KEY, channel TEXT NOT NULL)")
        old.execute("INSERT INTO slack_channels VALUES ('dm:alice', 'DU0ALICE')")
    slack = SlackDriver(database, stub)
    await slack.start()
    try:
        await slack.slash("sam", "broadcast --to @alice OLD-DM-KEPT")
        assert any("OLD-DM-KEPT" in m.shown for m in slack.stub.top("DU0ALICE"))
        assert slack.stub.called("conversations.open") == []
    finally:
        await slack.stop()
