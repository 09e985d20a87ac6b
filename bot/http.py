"""The one aiohttp server: ``/healthz`` and ``/metrics`` (adapters and the API mount here too)."""

from __future__ import annotations

from aiohttp import web

from bot.api import routes
from bot.core import Core

CORE = web.AppKey("core", Core)


def build_http_app(core: Core) -> web.Application:
    """The aiohttp application with health and metrics routes."""
    app = web.Application()
    app[CORE] = core
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.add_routes(routes(core))
    return app


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness: the store answers and the adapters attached."""
    core = request.app[CORE]
    core.store.conn.execute("SELECT 1").fetchone()
    return web.json_response(
        {
            "status": "ok",
            "adapters": core.delivery.platforms(),
            "members": len(core.directory.data.members),
        }
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    body = request.app[CORE].metrics.render()
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
