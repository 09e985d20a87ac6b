"""The gateway: a Slack member consults a member who is only on XMPP (ADP-6, CON-2)."""

from __future__ import annotations

from bot.port import Port
from tests.adapters.slack.driver import Recorder, SlackDriver, desk


async def test_consult_relays_between_slack_and_xmpp_adp_6_con_2(slack: SlackDriver) -> None:
    """ADP-6: alice's consultation thread sits in her own desk (chen has no Slack); what she
    writes there reaches chen, chen's replies appear in her thread with his name; Ann sees none."""
    xmpp, chen = Recorder("xmpp"), Port(slack.core, "xmpp")
    slack.core.delivery.attach(xmpp)
    await slack.slash("alice", "ready")
    await chen.command("chen@localhost", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.click("alice", desk("alice"), "i1", "Accept")
    await slack.click("alice", desk("alice"), "i1", "Consult")
    await slack.submit_target("alice", "consult", "i1", "@chen")
    await chen.command("chen@localhost", "accept i2")
    await slack.settle()

    card = slack.stub.card(desk("alice"), "i2")
    await slack.write("alice", desk("alice"), "GW-TOKEN which refund?", card.ts)
    reached = [r for r in xmpp.received if r.startswith("chen@localhost ")]
    assert any("GW-TOKEN which refund?" in r for r in reached)
    await chen.command("chen@localhost", "say the partial one", context="i2")
    await slack.settle()
    assert any("@chen: the partial one" in t for t in slack.stub.thread(desk("alice"), card.ts))
    assert "GW-TOKEN" not in slack.customers.text()
    assert "partial one" not in slack.customers.text()
