"""Supervisors on Slack: a read-only mirror thread, then coach and barge (SUP-1..4, ADP-2)."""

from __future__ import annotations

from tests.adapters.slack.driver import SlackDriver, desk
from tests.adapters.slack.stub import buttons


async def test_monitor_coach_barge_from_slack_sup_1_sup_2_sup_3_sup_4(slack: SlackDriver) -> None:
    """SUP-1..4: sam's mirror of alice's chat; his whisper reaches alice's thread only; his
    barge message reaches alice and Ann."""
    stub, alice, sam = slack.stub, desk("alice"), desk("sam")
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.click("alice", alice, "i1", "Accept")

    assert await slack.slash("sam", "monitor @alice") == 200
    mirror = stub.card(sam, "i1")
    assert buttons(mirror) == ["Coach", "Barge", "Leave"]
    await slack.customer_says("Ann", "where is my order")
    assert "Ann: where is my order" in stub.thread(sam, mirror.ts)  # SUP-1: hears both sides

    await slack.write("sam", sam, "psst", mirror.ts)  # monitoring is silent: refused
    assert "psst" not in slack.customers.text()
    assert not any("psst" in t for t in stub.thread(alice, stub.card(alice, "i1").ts))

    await slack.click("sam", sam, "i1", "Coach")
    await slack.write("sam", sam, "WHISPER offer a voucher", mirror.ts)
    alice_thread = stub.thread(alice, stub.card(alice, "i1").ts)
    assert any("WHISPER offer a voucher" in t and "whisper" in t for t in alice_thread)
    assert "WHISPER" not in slack.customers.text()  # SUP-2: never the customer

    await slack.click("sam", sam, "i1", "Barge")
    await slack.write("sam", sam, "BARGE hello Ann", mirror.ts)
    assert "Sam Stone: BARGE hello Ann" in slack.customers.text()  # SUP-3: everyone
    assert any("BARGE hello Ann" in t for t in stub.thread(alice, stub.card(alice, "i1").ts))
    assert "WHISPER" not in slack.customers.text()
