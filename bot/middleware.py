"""Middleware of the one aiohttp app: request counts, JSON errors, the API token.

They wrap every route on the app, the adapters' webhooks (``/slack/events``) included;
the token guards only the API (``/api/...``).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.api_input import clip
from bot.dispatch.pipeline import new_ref
from bot.metrics import Metrics

log = logging.getLogger("backline.http")
API = "/api/"


def count_requests(metrics: Metrics) -> Middleware:
    """Count each answered request as ``backline_requests_total{route,code}``."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        code = 500
        try:
            response = await handler(request)
            code = response.status
            return response
        except web.HTTPException as exc:
            code = exc.status
            raise
        finally:
            metrics.requests.labels(route_of(request), str(code)).inc()

    return count


def route_of(request: web.Request) -> str:
    """The route template that matched (``/api/interactions/{id}``), or ``unmatched``."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No route (404) or method (405) and crashes answer JSON with an ``error``."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc is not request.match_info.http_exception:
            raise  # a handler's own answer
        path = clip(request.path)
        message = (
            f"{request.method} is not allowed on {path}; allowed: {exc.headers.get('Allow', '')}"
            if exc.status == 405
            else f"nothing here: {request.method} {path}"
        )
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error(exc.status, message, allow)
    except Exception:
        ref = new_ref()
        log.exception("http: %s %s failed ref=%s", request.method, clip(request.path), ref)
        return error(500, f"something went wrong on our side (ref {ref})")


def require_token(token: str) -> Middleware:
    """The API answers 401 unless ``Authorization: Bearer TOKEN`` (compared in constant time)."""
    expected = _bytes(token)

    @web.middleware
    async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not (request.path.startswith(API) or route_of(request).startswith(API)):
            return await handler(request)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(_bytes(given), expected):
            return error(
                401,
                "send the API token as 'Authorization: Bearer TOKEN'",
                {"WWW-Authenticate": 'Bearer realm="backline"'},
            )
        return await handler(request)

    return authorize


def _bytes(text: str) -> bytes:
    return text.strip().encode("utf-8", "surrogatepass")


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON error answer: ``{"error": message}``."""
    return web.json_response({"error": message}, status=status, headers=headers)
