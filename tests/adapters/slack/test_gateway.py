"""The gateway: a Slack member consults a member who is only on XMPP (ADP-6, CON-2)."""

from __future__ import annotations

from bot.events import Command
from bot.outbound import Say
from tests.adapters.slack.driver import SlackDriver, desk


class XmppSide:
    """Records what chen (XMPP only) receives."""

    name = "xmpp-recorder"

    def __init__(self) -> None:
        self.received: list[Say] = []

    def reaches(self, recipient: str) -> bool:
        return recipient == "@chen"

    async def send(self, message: Say) -> None:
        self.received.append(message)


async def test_consult_relays_between_slack_and_xmpp_adp_6_con_2(slack: SlackDriver) -> None:
    """ADP-6: alice's consultation thread sits in her own desk (chen has no Slack); what she
    writes there reaches chen, chen's replies appear in her thread with his name; Ann sees none."""
    xmpp = XmppSide()
    slack.core.delivery.attach(xmpp)
    await slack.slash("alice", "ready")
    await slack.core.handle(Command("xmpp", "chen@localhost", "ready"))
    customers = slack.core.engine.customers
    await slack.act(lambda: customers.arrive("chat", "Ann", "@alice", "hello"))
    await slack.click("alice", desk("alice"), "i1", "Accept")
    await slack.click("alice", desk("alice"), "i1", "Consult")
    await slack.submit_target("alice", "consult", "i1", "@chen")
    await slack.core.handle(Command("xmpp", "chen@localhost", "accept i2"))
    await slack.settle()

    card = slack.stub.card(desk("alice"), "i2")
    await slack.write("alice", desk("alice"), "GW-TOKEN which refund?", card.ts)
    assert any("GW-TOKEN which refund?" in m.text for m in xmpp.received)
    await slack.core.handle(Command("xmpp", "chen@localhost", "say the partial one", context="i2"))
    await slack.settle()
    assert any("@chen: the partial one" in t for t in slack.stub.thread(desk("alice"), card.ts))
    assert "GW-TOKEN" not in slack.customers.text()
    assert "partial one" not in slack.customers.text()
