"""The HTTP API for customer work (INT-2): create an interaction, read one back."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.core import Core
from bot.errors import CommandError, NotFound
from bot.interaction.model import Interaction
from bot.port.port import Port
from bot.port.types import Address
from bot.port.views import find

API_KINDS = ("chat", "email", "workitem")
FIELDS = {"kind", "customer", "target", "text", "case"}
TEXT_KEY = {"chat": "text", "email": "subject", "workitem": "title"}


class BadRequest(ValueError):
    """A request body that cannot be used; the message says exactly why."""


def parse_request(body: bytes) -> dict[str, Any]:
    """Validate a ``POST /api/interactions`` body."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}"
        )
    for key in ("kind", "customer", "target"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise BadRequest(f"'{key}' is required and must be a non-empty string")
    if data["kind"] not in API_KINDS:
        raise BadRequest(f"'kind' must be one of: {', '.join(API_KINDS)} (voice arrives by SIP)")
    if not isinstance(data.get("text", ""), str):
        raise BadRequest("'text' must be a string")
    case = data.get("case", {})
    if not isinstance(case, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in case.items()
    ):
        raise BadRequest("'case' must be an object of string values")
    return data


def describe(ix: Interaction) -> dict[str, Any]:
    """An interaction as the API shows it."""
    return {
        "id": ix.id,
        "kind": ix.kind,
        "state": ix.state,
        "customer": ix.customer,
        "target": ix.target,
        "owner": f"@{ix.owner}" if ix.owner else None,
        "case": ix.case,
        "parties": [
            {"who": p.who, "role": p.role.value, "connected": p.connected}
            for p in ix.parties.values()
        ],
    }


def routes(core: Core) -> list[web.RouteDef]:
    """The API routes for ``core``; API customers are ``api:NAME`` in the address book."""
    api = Port(core, "api")

    async def create(request: web.Request) -> web.Response:
        try:
            data = parse_request(await request.read())
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            iid = await api.customer_arrived(
                Address("api", data["customer"]),
                data["kind"],
                data["target"],
                data.get("text", ""),
                display=data["customer"],
                case=data.get("case"),
            )
        except NotFound as exc:
            return web.json_response({"error": exc.message}, status=404)
        except CommandError as exc:
            return web.json_response({"error": exc.message}, status=422)
        ix = find(core, iid)
        assert ix is not None, "an interaction just created is stored"
        return web.json_response(describe(ix), status=201)

    async def show(request: web.Request) -> web.Response:
        iid = request.match_info["id"]
        ix = find(core, iid)
        if ix is None:
            return web.json_response({"error": f"no interaction {iid}"}, status=404)
        return web.json_response(describe(ix))

    return [web.post("/api/interactions", create), web.get("/api/interactions/{id}", show)]
