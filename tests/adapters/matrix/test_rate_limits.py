"""``M_LIMIT_EXCEEDED`` is honoured (ADP-3): backline waits as long as ``retry_after_ms``
says, then sends the same event again (same transaction id: taken once).

Synapse exempts appservices from rate limits (``rate_limited: false``), so this runs
against a small HTTP stand-in for the client-server send endpoint that answers the first
request with a real 429 body.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from mautrix.api import Method, Path

from adapters.matrix.config import MatrixConfig
from adapters.matrix.homeserver import Homeserver


class Limited:
    """Answers the first send with M_LIMIT_EXCEEDED (retry after 300 ms), then takes it."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []  # (when, transaction id)
        self.status: list[bool] = []

    async def send(self, request: web.Request) -> web.Response:
        self.seen.append((time.monotonic(), request.match_info["txn"]))
        if len(self.seen) == 1:
            body = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many", "retry_after_ms": 300}
            return web.json_response(body, status=429)
        return web.json_response({"event_id": "$taken"})

    def homeserver_up(self, *, up: bool) -> None:
        self.status.append(up)


@pytest.fixture
async def limited() -> AsyncIterator[tuple[Limited, str]]:
    stub = Limited()
    app = web.Application()
    app.router.add_put("/_matrix/client/v3/rooms/{room}/send/{kind}/{txn}", stub.send)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield stub, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_m_limit_exceeded_waits_retry_after_then_sends_once_adp_3(
    limited: tuple[Limited, str],
) -> None:
    """ADP-3: the 429's retry_after_ms is waited out; the retry has the same txn id."""
    stub, url = limited
    config = MatrixConfig(homeserver=url, as_token="a" * 20, hs_token="h" * 20)
    hs = Homeserver(config, stub)
    await hs.open()
    try:
        path = Path.v3.rooms["!room:localhost"].send["m.room.message"]["txn-1"]
        answer = await hs.call(lambda: hs.bot.api.request(Method.PUT, path, {"body": "hi"}))
    finally:
        await hs.close()
    assert answer == {"event_id": "$taken"}
    (first, txn1), (second, txn2) = stub.seen
    assert txn1 == txn2 == "txn-1"
    assert 0.3 <= second - first < 0.9  # as long as asked, not the 1 s default
    assert stub.status == []  # a rate limit is not the homeserver being down
