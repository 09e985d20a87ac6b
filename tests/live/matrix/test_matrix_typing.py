"""Typing is relayed within an interaction (ADP-3): a customer typing shows as the bot
typing in the agent's room, the agent typing shows as the routing puppet typing in the
customer's chat; nothing is stored."""

from __future__ import annotations

import asyncio

from tests.live.matrix.conftest import People, accepted_chat
from tests.support.synapse import Backline, Person

BOT = "@backline:localhost"
PUPPET = "@backline_route_support:localhost"


async def typing_seen(person: Person, room_id: str, who: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(r == room_id and who in users for r, users in person.typing):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{person.user_id} never saw {who} typing: {person.typing}")
        await asyncio.sleep(0.02)


async def test_typing_is_relayed_between_customer_and_agent_adp_3(
    backline: Backline, people: People
) -> None:
    """ADP-3: typing crosses from the customer's chat to i1's room and back."""
    story = await accepted_chat(backline, people, "hello FIRST-w01")
    alice, ann, chat, room = story.alice, story.customer, story.chat, story.room
    events = len(backline.state()["interactions"])
    await ann.client.room_typing(chat, True, timeout=10000)
    await typing_seen(alice, room, BOT)
    await alice.client.room_typing(room, True, timeout=10000)
    await typing_seen(ann, chat, PUPPET)
    assert len(backline.state()["interactions"]) == events
