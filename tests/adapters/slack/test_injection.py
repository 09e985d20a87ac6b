"""Customer text is shown, never interpreted; what members type arrives as typed (ADP-2).

The injection story: a customer whose text and name are Slack control sequences (an
@channel ping, a mention, a disguised link) arrives through ``POST /api/interactions``; every
payload backline then sends to Slack (cards, thread messages, notices, ephemeral replies,
response_url replies, the Home tab, failure reports) carries them escaped. The decoding
story: what Slack sends escaped reaches a console customer as the member typed it.
"""

from __future__ import annotations

from tests.adapters.slack.check import assert_safe, render
from tests.adapters.slack.driver import SlackDriver, desk, group_dm
from tests.adapters.slack.stub import Fault

INJECTION = "hi <!channel> <!here> <@U0BOB> <https://evil.example/login|https://bank.example>"
NAME = "<!channel><https://evil.example|Ann>"


def everything_sent(slack: SlackDriver) -> list[object]:
    """Every payload Slack received: Web API calls and response_url replies."""
    return [*(args for _, args in slack.stub.calls), *slack.stub.responses]


async def test_injected_customer_text_and_name_are_posted_escaped_everywhere_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: through the API and signed requests, the injection is escaped in every field
    of every payload, and alice sees it literally."""
    stub, alice = slack.stub, desk("alice")
    await slack.slash("alice", "ready")
    await slack.slash("bob", "ready")
    await slack.open_home("alice")
    status, created = await slack.api_interaction(
        kind="chat",
        customer=NAME,
        target="@alice",
        text=INJECTION,
        case={"order <!everyone>": "A&B <@U0SAM>"},
    )
    assert status == 201
    iid = created["id"]
    await slack.click("alice", alice, iid, "Accept")
    card = stub.card(alice, iid)
    shown = render(str(card.blocks))
    assert f"Customer:* {created['customer']}" in shown  # the name as backline keeps it
    assert "A&B <@U0SAM>" in shown  # the case data literally, as the CRM sent it
    assert any(INJECTION in text for text in stub.thread(alice, card.ts))

    # sam writes on the console: member text relayed from another platform, raw
    console = slack.customers.adapter
    await console.type("sam", f"broadcast --priority high --to @alice {INJECTION}")
    await slack.settle()
    await slack.slash("alice", f"find {INJECTION.replace('<', '&lt;').replace('>', '&gt;')}")
    stub.faults.append(Fault("chat.postMessage", status=500, times=4))
    await console.type("sam", f"broadcast --to @alice lost {INJECTION}")  # reported instead
    await slack.settle()

    await slack.click("alice", alice, iid, "Consult")
    await slack.submit_target("alice", "consult", iid, "@bob")
    await slack.click("bob", group_dm("alice", "bob"), "i2", "Accept")
    consult = stub.card(group_dm("alice", "bob"), "i2")
    await slack.write("bob", group_dm("alice", "bob"), "!find &lt;!here&gt;", consult.ts)

    assert any("refused a message" in m.shown for m in stub.top(alice))  # the report came
    assert any("Nothing found" in e["text"] for e in stub.ephemeral)  # so did the whisper
    assert any("Nothing found" in r["text"] for r in stub.responses)
    assert INJECTION in render(str(stub.homes["U0ALICE"]))
    for payload in everything_sent(slack):
        assert_safe(payload)
    assert stub.invalid == []


async def test_what_a_member_types_reaches_the_customer_as_typed_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: Slack sends `Q&A: 2 < 3` as entities; the console customer gets the characters.
    `!consult <@U0BOB>` names bob through the directory."""
    await slack.slash("alice", "ready")
    await slack.slash("bob", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.click("alice", desk("alice"), "i1", "Accept")
    card = slack.stub.card(desk("alice"), "i1")
    await slack.write("alice", desk("alice"), "Q&amp;A: 2 &lt; 3 &amp;amp; more", card.ts)
    assert "(i1) Alice Anders: Q&A: 2 < 3 &amp; more" in slack.customers.received("customer:Ann")

    await slack.write("alice", desk("alice"), "!consult <@U0BOB>", card.ts)
    consult = slack.stub.card(group_dm("alice", "bob"), "i2")
    assert "Accept" in str(consult.blocks)


async def test_slash_command_mentions_name_members_adp_2(slack: SlackDriver) -> None:
    """ADP-2: `/bl consult <@U0BOB|bob>` consults bob, as `/bl consult @bob` would."""
    await slack.slash("alice", "ready")
    await slack.slash("bob", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.slash("alice", "accept i1")
    await slack.slash("alice", "consult <@U0BOB|bob>")
    assert "Accept" in str(slack.stub.card(group_dm("alice", "bob"), "i2").blocks)
