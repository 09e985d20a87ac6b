"""A whole story through signed Slack payloads only (ADP-2, CON-2, CON-9, TRF-2, INT-3)."""

from __future__ import annotations

from bot.state import snapshot
from tests.adapters.slack.driver import SlackDriver, desk, group_dm
from tests.adapters.slack.stub import buttons


def state_of(slack: SlackDriver, iid: str) -> dict[str, object]:
    return next(i for i in snapshot(slack.core.store)["interactions"] if i["id"] == iid)


async def test_chat_offered_accepted_consulted_and_warm_transferred_adp_2_con_2_con_9(
    slack: SlackDriver,
) -> None:
    """ADP-2 / CON-2 / CON-9: alice accepts a chat by button, consults bob in a private group
    DM thread, completes a warm transfer; Ann never sees the consultation; cards end final."""
    stub, alice, bob = slack.stub, desk("alice"), desk("bob")
    assert await slack.slash("alice", "ready") == 200
    assert await slack.slash("bob", "ready") == 200
    assert [r["text"] for r in stub.responses] == ["You are ready.", "You are ready."]

    await slack.customer_arrives("Ann", "@alice", "hello I need help")
    offer = stub.card(alice, "i1")
    assert buttons(offer) == ["Accept", "Decline"]
    assert any("accept i1" in t for t in stub.thread(alice, offer.ts))

    assert await slack.click("alice", alice, "i1", "Accept") == 200
    card = stub.card(alice, "i1")
    assert "Consult" in buttons(card) and "Accept" not in buttons(card)
    assert any("Transcript so far" in t for t in stub.thread(alice, card.ts))

    assert await slack.write("alice", alice, "hi Ann, let me check", card.ts) == 200
    assert "hi Ann, let me check" in slack.customers.text()

    assert await slack.click("alice", alice, "i1", "Consult") == 200
    modal = stub.called("views.open")[-1]["view"]
    assert modal["callback_id"] == "bl_target"
    assert await slack.submit_target("alice", "consult", "i1", "@bob") == 200

    pair = group_dm("alice", "bob")
    consult = stub.card(pair, "i2")
    assert buttons(consult) == ["Accept", "Decline"]
    assert stub.cards(bob) == []  # bob's desk shows nothing of it: the group DM does
    assert await slack.click("bob", pair, "i2", "Accept") == 200
    consult = stub.card(pair, "i2")
    assert "Transfer" in buttons(consult)

    assert await slack.write("alice", pair, "SECRET-TOKEN refund?", consult.ts) == 200
    assert await slack.write("bob", pair, "yes SECRET-REPLY", consult.ts) == 200
    thread = stub.thread(pair, consult.ts)
    assert not any("SECRET-TOKEN" in t for t in thread)  # typed in the thread: not echoed

    assert await slack.click("alice", pair, "i2", "Transfer") == 200
    assert state_of(slack, "i1")["owner"] == "bob"
    bob_card = stub.card(bob, "i1")
    assert any("You now own i1" in t for t in stub.thread(bob, bob_card.ts))
    assert await slack.write("bob", bob, "hi Ann, Bob here", bob_card.ts) == 200
    assert "Bob Baker: hi Ann, Bob here" in slack.customers.text()

    assert await slack.click("alice", alice, "i1", "Done") == 200
    assert await slack.click("bob", bob, "i1", "End") == 200
    assert await slack.click("bob", bob, "i1", "Done") == 200

    assert state_of(slack, "i1")["state"] == "closed"
    assert "State:* closed" in str(stub.card(bob, "i1").blocks)
    assert buttons(stub.card(bob, "i1")) == []
    assert buttons(stub.card(alice, "i1")) == []
    assert buttons(stub.card(pair, "i2")) == []
    # the cards show both interactions closed: their rows are pruned, the lanes stay
    store = slack.core.store.conn
    assert store.execute("SELECT interaction_id FROM slack_cards").fetchall() == []
    assert {lane for (lane,) in store.execute("SELECT lane FROM slack_channels")} == {
        "dm:alice",
        "dm:bob",
        "mpim:alice+bob",
    }
    customer_side = slack.customers.text()
    assert "SECRET" not in customer_side
    assert "SECRET" not in stub.everything(alice) + stub.everything(bob)
