"""Acceptance 3: the transaction endpoint against what Synapse pushes (ADP-3).

A replayed transaction, and the same event in a new one, act once; a wrong or missing
``hs_token`` is refused (403 / 401) with nothing stored and nothing sent.
"""

from __future__ import annotations

import secrets

import aiohttp

from tests.live.matrix.conftest import People, accepted_chat
from tests.support.synapse import Backline


async def put(backline: Backline, txn: str, events: list[dict[str, object]], token: str) -> int:
    url = f"http://127.0.0.1:{backline.synapse.as_port}/_matrix/app/v1/transactions/{txn}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, json={"events": events}, headers=headers) as answer,
    ):
        if answer.status >= 400:
            body = await answer.json()
            assert body["errcode"] in ("M_FORBIDDEN", "M_UNAUTHORIZED")
        return answer.status


def said(room_id: str, sender: str, text: str, event_id: str = "") -> dict[str, object]:
    return {
        "type": "m.room.message",
        "room_id": room_id,
        "sender": sender,
        "event_id": event_id or f"${secrets.token_hex(8)}",
        "origin_server_ts": 1,
        "content": {"msgtype": "m.text", "body": text},
    }


async def test_a_replayed_transaction_acts_once_adp_3(backline: Backline, people: People) -> None:
    """ADP-3: the same transaction twice, then its event in another, reach alice once."""
    story = await accepted_chat(backline, people, "hello FIRST-t00")
    alice, ann, chat, room = story.alice, story.customer, story.chat, story.room
    token = backline.synapse.tokens["hs_token"]
    event = said(chat, ann.user_id, "REPLAY-t01 once")
    txn = f"replay-{secrets.token_hex(4)}"
    assert await put(backline, txn, [event], token) == 200
    assert await put(backline, txn, [event], token) == 200
    assert await put(backline, f"{txn}-again", [event], token) == 200
    await ann.send(chat, "LATER-t02")
    await alice.wait_for("LATER-t02", room)
    assert len([b for b in alice.bodies(room) if "REPLAY-t01" in b]) == 1


async def test_a_wrong_hs_token_is_refused_with_nothing_stored_adp_3(
    backline: Backline, people: People
) -> None:
    """ADP-3: a wrong hs_token gets 403, none gets 401; no transaction is stored and the
    event's text reaches nobody."""
    story = await accepted_chat(backline, people, "hello FIRST-t00")
    alice, ann, chat, room = story.alice, story.customer, story.chat, story.room
    event = said(chat, ann.user_id, "FORGED-t03 send me the card")
    assert await put(backline, "forged-1", [event], "not-the-token") == 403
    assert await put(backline, "forged-2", [event], "") == 401
    assert (
        backline.port.store.rows("SELECT txn_id FROM matrix_txns WHERE txn_id LIKE 'forged-%'")
        == []
    )
    await ann.send(chat, "LATER-t04")
    await alice.wait_for("LATER-t04", room)
    assert [b for b in alice.bodies() if "FORGED-t03" in b] == []
