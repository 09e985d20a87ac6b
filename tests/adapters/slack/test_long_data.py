"""Long data stays within Block Kit's limits: every card keeps its thread (ADP-2, MSG-1).

The stub refuses what Slack refuses and fails the test on any refused payload, so each
story here also proves that nothing backline sent was invalid.
"""

from __future__ import annotations

import json

from adapters.slack.cards import card_blocks
from bot.port import InteractionView
from tests.adapters.slack.check import problems, users
from tests.adapters.slack.driver import SlackDriver, desk
from tests.adapters.slack.stub import Fault

LONG = "x" * 3_500


async def offered(slack: SlackDriver, **data: object) -> str:
    """An API chat for alice; the id of its interaction."""
    await slack.slash("alice", "ready")
    status, created = await slack.api_interaction(kind="chat", target="@alice", **data)
    assert status == 201, created
    return str(created["id"])


async def test_a_case_of_3500_characters_gets_its_card_and_thread_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: 3,500 characters of case data: the card is posted (the case in two sections, all
    of it shown), its thread holds the offer, the buttons work."""
    iid = await offered(slack, customer="Ann", text="hi", case={"notes": LONG})
    card = slack.stub.card(desk("alice"), iid)
    sections = "".join(b["text"]["text"] for b in card.blocks if b["type"] == "section")
    assert f"*notes:* {LONG}" in sections
    assert any(f"accept {iid}" in t for t in slack.stub.thread(desk("alice"), card.ts))
    assert await slack.click("alice", desk("alice"), iid, "Accept") == 200
    assert "Consult" in str(slack.stub.card(desk("alice"), iid).blocks)


async def test_the_longest_customer_name_gets_its_card_adp_2(slack: SlackDriver) -> None:
    """ADP-2: the longest name the API takes (200 characters) gets a card and its thread."""
    iid = await offered(slack, customer="N" * 200, text="hi")
    card = slack.stub.card(desk("alice"), iid)
    assert any(f"accept {iid}" in t for t in slack.stub.thread(desk("alice"), card.ts))


def test_a_customer_name_of_3000_characters_makes_a_valid_card_adp_2() -> None:
    """ADP-2: 3,000 characters of `<&>` (15,000 escaped) in a name: header and facts cut."""
    name = "<&>" * 1_000
    view = InteractionView("i1", "chat", f"i1 chat with {name}", "offered", customer=name)
    blocks = card_blocks(view, users)
    assert problems("chat.postMessage", {"text": "card", "blocks": blocks}) == []
    assert blocks[0]["text"]["text"].startswith("i1 chat with &lt;&amp;&gt;")


async def test_a_long_broadcast_arrives_whole_and_the_home_tab_keeps_updating_msg_1(
    slack: SlackDriver,
) -> None:
    """MSG-1: a 3,500-character notice arrives whole, in one coloured attachment; the Home tab
    is published after it and after the next one."""
    await slack.open_home("alice")
    await slack.slash("sam", f"broadcast --to @alice {LONG}")
    notice = [m for m in slack.stub.top(desk("alice")) if "xxxx" in m.shown][-1]
    assert notice.shown.count("x") == 3_500
    await slack.slash("sam", "broadcast --to @alice AFTER-THE-LONG-ONE")
    assert "AFTER-THE-LONG-ONE" in json.dumps(slack.stub.homes["U0ALICE"])


async def test_a_message_over_40000_characters_is_split_adp_2(slack: SlackDriver) -> None:
    """ADP-2: Ann writes 45,000 characters: alice's thread gets them all, in two messages."""
    await slack.slash("alice", "ready")
    await slack.customer_arrives("Ann", "@alice", "hello")
    await slack.click("alice", desk("alice"), "i1", "Accept")
    await slack.customer_says("Ann", "y" * 45_000)
    thread = slack.stub.thread(desk("alice"), slack.stub.card(desk("alice"), "i1").ts)
    parts = [t for t in thread if "yyy" in t]
    assert len(parts) == 2 and "".join(parts).count("y") == 45_000


def test_a_card_with_200_participants_is_valid_adp_2() -> None:
    """ADP-2: 200 parties (a big conference) make a valid card: the list is cut."""
    view = InteractionView(
        "i1",
        "chat",
        "i1 chat with Ann",
        "active",
        parties=tuple(f"@member{n} (conference)" for n in range(200)),
        role="owner",
        connected=True,
        possible=frozenset({"hold", "end"}),
    )
    blocks = card_blocks(view, users)
    assert problems("chat.postMessage", {"text": "card", "blocks": blocks}) == []
    assert "…" in json.dumps(blocks, ensure_ascii=False)


async def test_a_refused_card_falls_back_to_a_minimal_one_with_its_thread_adp_2(
    slack: SlackDriver,
) -> None:
    """ADP-2: should Slack still answer `invalid_blocks`, a minimal card (id, state, buttons)
    is posted instead, so the offer and the chat still have their thread."""
    await slack.slash("alice", "ready")
    slack.stub.faults.append(Fault("chat.postMessage", error="invalid_blocks"))
    await slack.customer_arrives("Ann", "@alice", "hello")
    card = slack.stub.card(desk("alice"), "i1")
    assert card.blocks[0]["text"]["text"] == "i1 chat"
    assert any("accept i1" in t for t in slack.stub.thread(desk("alice"), card.ts))
    assert await slack.click("alice", desk("alice"), "i1", "Accept") == 200
    await slack.customer_says("Ann", "still there?")
    assert "Ann: still there?" in slack.stub.thread(desk("alice"), card.ts)
