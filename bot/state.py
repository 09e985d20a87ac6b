"""The state snapshot (``backline state --json``, ``demo --json``), read from the store."""

from __future__ import annotations

import json
from typing import Any

from bot.directory.presence import Presence, PresenceState
from bot.storage import Store


def snapshot(store: Store) -> dict[str, Any]:
    """Members, group counts, interactions, inboxes and mailbox counts, as stored."""
    conn = store.conn
    members = [
        {
            "id": mid,
            "presence": Presence(PresenceState(state), 0.0, None, bool(busy)).shown.value,
            "roles": json.loads(roles),
        }
        for mid, roles, state, busy in conn.execute(
            "SELECT m.id, m.roles, p.state, p.busy FROM members m"
            " JOIN presence p ON p.member_id = m.id ORDER BY m.id"
        )
    ]
    groups = [
        {"id": ref.split(":", 1)[1], "available": available}
        for ref, available in conn.execute(
            "SELECT id, available FROM groups WHERE kind = 'group' ORDER BY id"
        )
    ]
    return {
        "members": members,
        "groups": groups,
        "interactions": _interactions(store),
        "inbox": _inbox(store),
        "mailboxes": _mailboxes(store),
    }


def _interactions(store: Store) -> list[dict[str, Any]]:
    store.flush()
    parties: dict[str, list[dict[str, Any]]] = {}
    for iid, who, role, connected in store.conn.execute(
        "SELECT interaction_id, who, role, connected FROM parties ORDER BY interaction_id, joined"
    ):
        parties.setdefault(iid, []).append({"who": who, "role": role, "connected": bool(connected)})
    return [
        {
            "id": iid,
            "kind": kind,
            "state": state,
            "owner": owner,
            "parent": parent,
            "parties": parties.get(iid, []),
        }
        for iid, kind, state, owner, parent in store.conn.execute(
            "SELECT id, kind, state, owner, parent FROM interactions"
            " ORDER BY created, length(id), id"
        )
    ]


def _inbox(store: Store) -> dict[str, list[dict[str, Any]]]:
    inbox: dict[str, list[dict[str, Any]]] = {}
    for mid, mid_id, priority, status, text in store.conn.execute(
        "SELECT member_id, id, priority, status, text FROM inbox ORDER BY member_id, id DESC"
    ):
        inbox.setdefault(mid, []).append(
            {"id": mid_id, "priority": priority, "status": status, "text": text}
        )
    return inbox


def _mailboxes(store: Store) -> dict[str, dict[str, int]]:
    boxes = {box: {"new": 0, "old": 0} for (box,) in store.conn.execute("SELECT id FROM mailboxes")}
    for box, status, n in store.conn.execute(
        "SELECT mailbox, status, count(*) FROM voicemails GROUP BY mailbox, status"
    ):
        boxes.setdefault(box, {"new": 0, "old": 0})[status] = n
    return boxes
