"""INT-2: customers arrive through the HTTP API; bad input gets a precise 4xx, changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from bot.core import Core
from bot.events import Command
from bot.http import build_http_app
from bot.port import Address, Port
from bot.state import snapshot
from tests.support.console import RULES


def addresses(core: Core) -> list[tuple[str, str, str, str]]:
    """The address book as stored: ``(platform, address, name, display)``."""
    rows = core.store.conn.execute(
        "SELECT platform, address, name, display FROM addresses ORDER BY at, name"
    )
    return rows.fetchall()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Core]]:
    core = Core.open(RULES, tmp_path / "backline.db", FakeClock())
    async with TestClient(TestServer(build_http_app(core))) as client:
        yield client, core
    core.store.close()


async def test_post_creates_a_chat_that_is_routed_and_readable_int_2(api) -> None:
    """INT-2 / INT-3: a POSTed chat is offered to a ready member; GET shows it as it moves."""
    client, core = api
    await core.handle(Command("console", "alice", "ready"))
    response = await client.post(
        "/api/interactions",
        json={
            "kind": "chat",
            "customer": "Ann",
            "target": "group:support",
            "text": "Hi there",
            "case": {"order": "A-17"},
        },
    )
    assert response.status == 201
    created = await response.json()
    assert created["state"] == "offered"
    assert created["case"] == {"order": "A-17", "first message": "Hi there"}
    assert created["parties"] == [{"who": "customer:Ann", "role": "customer", "connected": True}]
    await core.handle(Command("console", "alice", f"accept {created['id']}"))
    shown = await (await client.get(f"/api/interactions/{created['id']}")).json()
    assert shown["state"] == "active"
    assert shown["owner"] == "@alice"


async def test_get_of_a_closed_interaction_reads_the_store_int_5(api) -> None:
    client, core = api
    await core.handle(Command("console", "alice", "ready"))
    created = await (
        await client.post(
            "/api/interactions",
            json={"kind": "email", "customer": "Eve", "target": "@alice", "text": "Invoice"},
        )
    ).json()
    for text in (f"accept {created['id']}", "end", "done"):
        await core.handle(Command("console", "alice", text))
    shown = await (await client.get(f"/api/interactions/{created['id']}")).json()
    assert shown["state"] == "closed"
    assert shown["case"] == {"subject": "Invoice"}
    missing = await client.get("/api/interactions/i999")
    assert missing.status == 404
    assert await missing.json() == {"error": "no interaction i999"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "body is not JSON"),
        (b"[1, 2]", 400, "body must be a JSON object"),
        (b'{"kind": "chat", "customer": "Ann"}', 400, "'target' is required"),
        (
            b'{"kind": "fax", "customer": "Ann", "target": "group:support"}',
            400,
            "'kind' must be one of: chat, email, workitem",
        ),
        (
            b'{"kind": "chat", "customer": "Ann", "target": "group:support", "colour": 1}',
            400,
            "unknown field(s): colour",
        ),
        (
            b'{"kind": "chat", "customer": "Ann", "target": "group:support", "case": {"a": 1}}',
            400,
            "'case' must be an object of string values",
        ),
        (
            b'{"kind": "chat", "customer": "Ann", "target": "group:nope"}',
            404,
            "There is no group called 'nope'",
        ),
        (b'{"kind": "chat", "customer": "Ann", "target": "support"}', 422, "is not a target"),
    ],
)
async def test_bad_requests_are_refused_precisely_and_change_nothing_int_2(
    api, body: bytes, status: int, message: str
) -> None:
    client, core = api
    before = snapshot(core.store)
    response = await client.post("/api/interactions", data=body)
    assert response.status == status
    assert message in (await response.json())["error"]
    assert snapshot(core.store) == before
    assert Port(core, "api").interaction_view("i1", None) is None  # neither live nor stored
    assert addresses(core) == []  # the customer's address was rolled back with the rest


async def test_a_customer_already_in_an_interaction_is_refused_int_2(api) -> None:
    client, _ = api
    body = {"kind": "chat", "customer": "Ann", "target": "group:support"}
    assert (await client.post("/api/interactions", json=body)).status == 201
    again = await client.post("/api/interactions", json=body)
    assert again.status == 422
    assert (await again.json())["error"] == "Customer Ann is already in i1."


async def test_api_customers_are_addresses_with_distinct_party_names_int_2(api) -> None:
    """INT-2: the API's ``customer`` is the customer's address: a name of several words gets
    a one-word party name, and two addresses that read alike never share one."""
    client, core = api
    first = {"kind": "chat", "customer": "Ann Lee", "target": "group:support"}
    second = {"kind": "email", "customer": "Ann  Lee", "target": "group:support"}
    one = await client.post("/api/interactions", json=first)
    two = await client.post("/api/interactions", json=second)
    assert (one.status, two.status) == (201, 201)
    assert [p["who"] for p in (await one.json())["parties"]] == ["customer:Ann-Lee"]
    assert [p["who"] for p in (await two.json())["parties"]] == ["customer:Ann-Lee2"]
    assert addresses(core) == [
        ("api", "Ann Lee", "Ann-Lee", "Ann Lee"),
        ("api", "Ann  Lee", "Ann-Lee2", "Ann  Lee"),
    ]
    port = Port(core, "api")
    assert port.customer_interaction(Address("api", "Ann Lee")) == (await one.json())["id"]
    assert port.customer_interaction(Address("api", "Ann  Lee")) == (await two.json())["id"]
