"""The one aiohttp server: ``/healthz``, ``/metrics`` and the API (adapters mount here too).

Reads take ``core.store.lock``, as every change does, so they never see a transaction that
is still open (and may yet roll back).
"""

from __future__ import annotations

import inspect
import logging

from aiohttp import web

from bot.api import routes
from bot.core import Core
from bot.delivery import Delivery
from bot.middleware import count_requests, json_errors, require_token

CORE = web.AppKey("core", Core)
log = logging.getLogger("backline.http")


def build_http_app(core: Core, *, api_token: str = "") -> web.Application:
    """The aiohttp application; with ``api_token`` the API answers only that bearer token."""
    middlewares = [count_requests(core.metrics), json_errors]
    if api_token:
        middlewares.append(require_token(api_token))
    app = web.Application(middlewares=middlewares)
    app[CORE] = core
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.add_routes(routes(core))
    return app


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness: the store answers and each adapter is up (503 otherwise)."""
    core = request.app[CORE]
    async with core.store.lock:
        core.store.conn.execute("SELECT 1").fetchone()
        members = len(core.directory.data.members)
    adapters = await adapter_health(core.delivery)
    up = all(state == "up" for state in adapters.values())
    return web.json_response(
        {"status": "ok" if up else "degraded", "adapters": adapters, "members": members},
        status=200 if up else 503,
    )


async def adapter_health(delivery: Delivery) -> dict[str, str]:
    """Each attached adapter's ``health()``; without one, ``down`` if it said so, else ``up``."""
    states: dict[str, str] = {}
    for name, adapter in list(delivery.adapters.items()):
        health = getattr(adapter, "health", None)
        if health is None:
            states[name] = "down" if name in delivery.down else "up"
            continue
        try:
            state = health()
            states[name] = str(await state if inspect.isawaitable(state) else state)
        except Exception:
            log.exception("http: %s health() failed", name)
            states[name] = "unknown"
    return states


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    core = request.app[CORE]
    async with core.store.lock:
        body = core.metrics.render()
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
