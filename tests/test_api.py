"""INT-2: customers arrive through the HTTP API; bad input gets a precise 4xx, changes nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from bot.access_log import AccessLog
from bot.api_input import MAX_BODY
from bot.clock import FakeClock
from bot.core import Core
from bot.events import Command
from bot.http import build_http_app
from bot.port import Address, Port
from bot.state import snapshot
from tests.support.console import RULES

JSON = {"Content-Type": "application/json"}


def addresses(core: Core) -> list[tuple[str, str, str, str]]:
    """The address book as stored: ``(platform, address, name, display)``."""
    rows = core.store.conn.execute(
        "SELECT platform, address, name, display FROM addresses ORDER BY at, name"
    )
    return rows.fetchall()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Core]]:
    core = Core.open(RULES, tmp_path / "backline.db", FakeClock())
    server = TestServer(build_http_app(core))
    await server.start_server(access_log_class=AccessLog)  # as `backline run` logs
    async with TestClient(server) as client:
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
    response = await client.post("/api/interactions", data=body, headers=JSON)
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


# --- bad input: media type, size, depth, Unicode, limits (issue 12) ----------------------------

CHAT = {"kind": "chat", "customer": "Ann", "target": "group:support"}


async def refused(client: TestClient, core: Core, status: int, **request: Any) -> str:
    """POST, expect ``status`` with an ``error``, and nothing stored or live; the error."""
    before, live = snapshot(core.store), set(core.engine.live)
    response = await client.post("/api/interactions", **request)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    message: str = (await response.json())["error"]
    assert snapshot(core.store) == before
    assert set(core.engine.live) == live
    assert addresses(core) == []
    return message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Type": "text/plain"}, "send application/json, not text/plain"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            "send application/json, not application/x-www-form-urlencoded",
        ),
        ({"Content-Type": "application/json; charset=latin-1"}, "JSON as UTF-8, not latin-1"),
    ],
)
async def test_only_json_is_taken_415(api, headers: dict[str, str], message: str) -> None:
    client, core = api
    body = json.dumps(CHAT).encode()
    assert message in await refused(client, core, 415, data=body, headers=headers)


async def test_a_body_without_a_content_type_is_refused_415(api) -> None:
    client, core = api
    body = json.dumps(CHAT).encode()
    error = await refused(client, core, 415, data=body, skip_auto_headers=["Content-Type"])
    assert error == "send application/json, not application/octet-stream"


async def test_json_with_a_utf8_charset_in_any_case_is_taken(api) -> None:
    client, core = api
    headers = {"Content-Type": "Application/JSON; Charset=UTF-8"}
    response = await client.post("/api/interactions", data=json.dumps(CHAT), headers=headers)
    assert response.status == 201
    assert addresses(core) == [("api", "Ann", "Ann", "Ann")]


async def test_a_body_over_64_kib_is_refused_413_with_or_without_a_length(api) -> None:
    client, core = api
    body = json.dumps({**CHAT, "text": "x" * MAX_BODY}).encode()
    assert await refused(client, core, 413, data=body, headers=JSON) == (
        f"the body is over {MAX_BODY} bytes"
    )

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    await refused(client, core, 413, data=chunked(), headers=JSON)


async def test_a_body_of_exactly_64_kib_is_read(api) -> None:
    client, core = api
    body = json.dumps({**CHAT, "text": ""}).encode()
    padded = body[:-1] + b" " * (MAX_BODY - len(body)) + b"}"
    assert len(padded) == MAX_BODY
    response = await client.post("/api/interactions", data=padded, headers=JSON)
    assert response.status == 201
    assert addresses(core) == [("api", "Ann", "Ann", "Ann")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 1000 + b"]" * 1000, "body nests 1000 levels deep; at most 16"),
        (
            b'{"kind": "chat", "customer": "Ann", "target": "group:support", "case": '
            + b'{"a": ' * 17
            + b'"b"'
            + b"}" * 18,
            "body nests 18 levels deep",
        ),
        (b'{"customer": "\xed\xa0\x80"}', "body is not UTF-8: invalid continuation byte"),
        (b'{"customer": "\xff"}', "body is not UTF-8: invalid start byte at byte 14"),
        (
            b'{"kind": "chat", "customer": "A\\ud800", "target": "group:support"}',
            "lone surrogate",
        ),
        (
            b'{"kind": "chat", "customer": "Ann", "target": "group:support",'
            b' "case": {"\\udfff": "x"}}',
            "lone surrogate",
        ),
        (b'{"kind": "chat", "kind": "email"}', "body repeats the key kind"),
        (b'{"kind": "chat", "customer": NaN}', "NaN is not a JSON number"),
        (b'{"kind": ' + b"9" * 5000 + b"}", "a number is too long"),
        (b"\xef\xbb\xbf{}", "body is not JSON"),
    ],
)
async def test_malformed_json_is_refused_400(api, body: bytes, message: str) -> None:
    client, core = api
    assert message in await refused(client, core, 400, data=body, headers=JSON)


async def test_brackets_and_a_surrogate_pair_inside_strings_are_fine(api) -> None:
    """Depth counts structure, not text; an escaped pair is one valid character."""
    client, core = api
    body = {**CHAT, "customer": "Ann\\ud83d\\ude00", "text": "[{" * 3000}
    raw = json.dumps(body).replace("\\\\u", "\\u").encode()
    response = await client.post("/api/interactions", data=raw, headers=JSON)
    assert response.status == 201, await response.text()
    assert addresses(core) == [("api", "Ann\N{GRINNING FACE}", "Ann", "Ann\N{GRINNING FACE}")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer": "A" * 201}, "'customer' has 201 characters; at most 200"),
        ({"target": "group:" + "s" * 200}, "'target' has 206 characters; at most 200"),
        ({"customer": "Ann\x00"}, "'customer' may not hold control or bidi-override characters"),
        ({"customer": "Ann\x1b[31m"}, "(U+001B)"),
        ({"customer": "\u202enhoJ"}, "(U+202E)"),
        ({"customer": "Ann\u2066"}, "(U+2066)"),
        ({"customer": "Ann\u2028Lee"}, "(U+2028)"),
        ({"target": "group:support\n"}, "'target' may not hold control"),
        ({"text": "x" * 10_001}, "'text' has 10001 characters; at most 10000"),
        ({"case": {f"k{n}": "v" for n in range(51)}}, "'case' has 51 keys; at most 50"),
        ({"case": {"notes": "x" * 8188}}, "'case' holds 8193 bytes; at most 8192"),
        ({"case": {"é": "x" * 8190}}, "'case' holds 8192 bytes"),
        ({"case": {"order\x07": "A-17"}}, "the 'case' key order\\x07 may not hold control"),
        ({"case": {"k" * 201: "v"}}, "has 201 characters; at most 200"),
    ],
)
async def test_out_of_bounds_values_are_refused_422(
    api, change: dict[str, Any], message: str
) -> None:
    client, core = api
    body = {**CHAT, **change}
    if message == "'case' holds 8192 bytes":  # exactly the limit: taken
        response = await client.post("/api/interactions", json=body)
        assert response.status == 201
        return
    assert message in await refused(client, core, 422, json=body)


async def test_the_largest_name_and_text_are_stored_as_sent(api) -> None:
    client, core = api
    name, text = "Ä" * 200, "t" * 10_000
    body = {**CHAT, "customer": name, "text": text, "case": {f"k{n}": "v" for n in range(50)}}
    response = await client.post("/api/interactions", json=body)
    assert response.status == 201
    [(platform, address, party, display)] = addresses(core)
    assert (platform, address, display) == ("api", name, name)
    assert party == "Ä" * 40  # the party name is the address book's short form
    shown = await response.json()
    assert shown["case"]["first message"] == text
    assert len(shown["case"]) == 51


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("group:nope", 404, "There is no group called 'nope'"),
        ("support", 422, "is not a target"),
        ("vm:alice", 422, "Only a call can leave a voicemail"),
    ],
)
async def test_the_target_is_checked_before_the_customer_is_int_2(
    api, target: str, status: int, message: str
) -> None:
    """A customer already in i1 who names a bad target hears about the target."""
    client, core = api
    assert (await client.post("/api/interactions", json=CHAT)).status == 201
    before = snapshot(core.store)
    response = await client.post("/api/interactions", json={**CHAT, "target": target})
    assert response.status == status
    assert message in (await response.json())["error"]
    assert snapshot(core.store) == before


async def test_user_data_is_clipped_in_errors_and_log_lines(
    api, caplog: pytest.LogCaptureFixture
) -> None:
    """A 60 KB name or key is refused with a short error and a short log line."""
    client, core = api
    caplog.set_level(logging.DEBUG)
    huge = "N" * 60_000
    name_error = await refused(client, core, 422, json={**CHAT, "customer": huge})
    key_error = await refused(client, core, 400, json={**CHAT, huge: 1})
    missing = await client.get(f"/api/interactions/i{'9' * 5000}")
    assert missing.status == 404
    id_error = (await missing.json())["error"]
    assert key_error.startswith("unknown field(s): " + "N" * 40 + "… (60000 characters)")
    assert id_error == "no interaction i" + "9" * 79 + "… (5001 characters)"
    for message in (name_error, key_error, id_error):
        assert len(message) < 300
    assert caplog.records, "refusals are logged"
    for record in caplog.records:
        assert len(record.getMessage()) < 600, record.getMessage()[:200]


async def test_unknown_paths_and_methods_answer_json_404_and_405(api) -> None:
    client, _ = api
    missing = await client.get("/api/nothing")
    assert missing.status == 404
    assert await missing.json() == {"error": "nothing here: GET /api/nothing"}
    wrong = await client.delete("/api/interactions")
    assert wrong.status == 405
    assert wrong.headers["Allow"] == "POST"
    assert await wrong.json() == {
        "error": "DELETE is not allowed on /api/interactions; allowed: POST"
    }
    listing = await client.get("/api/interactions")
    assert listing.status == 405
    assert "allowed: POST" in (await listing.json())["error"]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/api/interactions/%ED%A0%80", "no interaction %ED%A0%80"),
        ("/api/interactions/%ff", "no interaction %ff"),
        ("/api/interactions/%00", "no interaction \\x00"),
        ("/api/interactions/%E2%80%AEi1", "no interaction \\u202ei1"),
        ("/%ff%fe", "nothing here: GET /%ff%fe"),
    ],
)
async def test_odd_ids_and_paths_answer_a_json_404(api, path: str, error: str) -> None:
    client, _ = api
    response = await client.get(URL(path, encoded=True))
    assert response.status == 404
    assert await response.json() == {"error": error}


# --- the API token ---------------------------------------------------------------------------


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Core]]:
    core = Core.open(RULES, tmp_path / "backline.db", FakeClock())
    app = build_http_app(core, api_token="s3cret-token")
    async with TestClient(TestServer(app)) as client:
        yield client, core
    core.store.close()


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", "Basic s3cret-token", "Bearer s3cret-token2", "s3cret"],
)
async def test_with_a_token_set_the_api_answers_401_without_it(
    guarded, authorization: str | None
) -> None:
    client, core = guarded
    headers = {} if authorization is None else {"Authorization": authorization}
    before = snapshot(core.store)
    post = await client.post("/api/interactions", json=CHAT, headers=headers)
    assert post.status == 401
    assert post.headers["WWW-Authenticate"] == 'Bearer realm="backline"'
    assert await post.json() == {"error": "send the API token as 'Authorization: Bearer TOKEN'"}
    assert snapshot(core.store) == before
    assert addresses(core) == []
    for path in ("/api/interactions/i1", "/api/nothing"):  # no hint of what exists
        assert (await client.get(path, headers=headers)).status == 401


async def test_with_the_token_the_api_works_and_health_and_metrics_stay_open(guarded) -> None:
    client, core = guarded
    auth = {"Authorization": "Bearer s3cret-token"}
    created = await client.post("/api/interactions", json=CHAT, headers=auth)
    assert created.status == 201
    iid = (await created.json())["id"]
    assert (await client.get(f"/api/interactions/{iid}", headers=auth)).status == 200
    lower = {"Authorization": "bearer s3cret-token"}
    assert (await client.get(f"/api/interactions/{iid}", headers=lower)).status == 200
    assert addresses(core) == [("api", "Ann", "Ann", "Ann")]
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 200


async def test_an_email_with_nobody_ready_waits_and_is_not_closed_grp_3(api) -> None:
    """GRP-3: nobody in support is ready: the POSTed email is 201 *queued* and still waits
    long after the 30s a chat waits; alice, once ready, is offered it."""
    client, core = api
    body = {"kind": "email", "customer": "Eve", "target": "group:support", "text": "Invoice"}
    response = await client.post("/api/interactions", json=body)
    assert response.status == 201
    created = await response.json()
    assert (created["state"], "reason" in created) == ("queued", False)
    await core.clock.advance(3600)  # type: ignore[attr-defined]
    shown = await (await client.get(f"/api/interactions/{created['id']}")).json()
    assert shown["state"] == "queued"
    await core.handle(Command("console", "alice", "ready"))
    shown = await (await client.get(f"/api/interactions/{created['id']}")).json()
    assert shown["state"] == "offered"


async def test_a_closed_interaction_says_why_int_2_grp_3(api) -> None:
    """INT-2 / GRP-3: a chat to @bob, who is logged off, is 201 but closed, with the reason."""
    client, _ = api
    body = {"kind": "chat", "customer": "Ann", "target": "@bob", "text": "hello?"}
    response = await client.post("/api/interactions", json=body)
    assert response.status == 201
    created = await response.json()
    assert (created["state"], created["reason"]) == ("closed", "@bob is logged off.")
