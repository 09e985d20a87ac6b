"""Issue 14, defect 8: ``/healthz`` follows the XMPP stream of a ``backline run`` (ADP-4, OPS-1).

While Prosody is down the adapter reports ``reconnecting`` and ``/healthz`` answers 503; once
it is back, 200 again. No reconnect leaves a task pending ("Task was destroyed …").
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.live.backline_process import BacklineProcess
from tests.support.prosody import Prosody


async def health(session: aiohttp.ClientSession, port: int) -> tuple[int, dict[str, Any]]:
    """One ``GET /healthz``: status and body."""
    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def until_health(
    session: aiohttp.ClientSession, port: int, status: int, timeout: float = 15.0
) -> dict[str, Any]:
    """Poll ``/healthz`` (bounded) until it answers ``status``; its body."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        try:
            got, body = await health(session, port)
        except aiohttp.ClientError as exc:
            last = exc
        else:
            if got == status:
                return body
            last = (got, body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"/healthz never answered {status}; last: {last}")


async def test_healthz_is_503_while_prosody_is_down_and_no_task_leaks_adp_4_ops_1(
    prosody: Prosody, backline: BacklineProcess
) -> None:
    """Defect 8: up → 503 ``reconnecting`` while Prosody is stopped → up again."""
    backline.start()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        body = await until_health(session, backline.http_port, 200)
        assert body["adapters"]["xmpp"] == "up"
        await asyncio.to_thread(prosody.stop)
        try:
            body = await until_health(session, backline.http_port, 503, timeout=5.0)
            assert body["adapters"]["xmpp"] in ("reconnecting", "connecting")
            assert body["status"] != "ok"
        finally:
            await asyncio.to_thread(prosody.start)
        body = await until_health(session, backline.http_port, 200)
        assert body["adapters"]["xmpp"] == "up"
    assert backline.stop() == 0, backline.tail()
    log = backline.log.read_text(encoding="utf-8", errors="replace")
    assert "Task was destroyed" not in log, backline.tail()
    assert "reconnecting in" in log  # it did lose the stream
