"""The HTTP API for customer work (INT-2): create an interaction, read one back.

Bodies are checked by ``bot.api_input`` before anything is stored; reads take the store's
lock, so they show committed state only.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.api_input import Arrival, Refused, clip, decode, parse_request, read_body
from bot.core import Core
from bot.errors import CommandError, NotFound
from bot.interaction.model import Interaction
from bot.middleware import error
from bot.port.port import Port
from bot.port.types import Address
from bot.port.views import find

log = logging.getLogger("backline.api")


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


def closed_because(core: Core, iid: str) -> str:
    """Why an interaction is closed, from its events: never a bare "closed" (GRP-3)."""
    for event in reversed(core.store.events(subject=iid)):
        if event.kind == "offer_failed":
            return str(event.data["reason"])
        if event.kind == "voicemail":
            return (
                f"nobody was available; the message was left in the {event.data['mailbox']} mailbox"
            )
    return "it ended"


def check_target(core: Core, target: str) -> None:
    """Refuse a target nobody answers, before anything about the customer is looked at."""
    if target.startswith("vm:"):
        raise CommandError("Only a call can leave a voicemail; the API takes no calls.")
    core.directory.resolve(target)


def routes(core: Core) -> list[web.RouteDef]:
    """The API routes for ``core``; API customers are ``api:NAME`` in the address book."""
    api = Port(core, "api")

    async def arrive(arrival: Arrival) -> str:
        async with core.store.lock:
            check_target(core, arrival.target)
        return await api.customer_arrived(
            Address("api", arrival.customer),
            arrival.kind,
            arrival.target,
            arrival.text,
            display=arrival.customer,
            case=arrival.case,
        )

    async def create(request: web.Request) -> web.Response:
        try:
            iid = await arrive(parse_request(decode(await read_body(request))))
        except Refused as exc:
            return refuse(request, exc.status, exc.message)
        except NotFound as exc:
            return refuse(request, 404, exc.message)
        except CommandError as exc:
            return refuse(request, 422, exc.message)
        return await show_one(iid, 201)

    async def show(request: web.Request) -> web.Response:
        return await show_one(request.match_info["id"])

    async def show_one(iid: str, status: int = 200) -> web.Response:
        async with core.store.lock:
            ix = find(core, iid)
            shown = describe(ix) if ix is not None else None
            if shown is not None and ix is not None and not ix.live:
                shown["reason"] = closed_because(core, ix.id)
        if shown is None:
            return error(404, f"no interaction {clip(iid)}")
        return web.json_response(shown, status=status)

    return [web.post("/api/interactions", create), web.get("/api/interactions/{id}", show)]


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    """Log and answer a refused request; ``message`` holds user data only clipped."""
    log.info("api: %s %s refused %d: %s", request.method, clip(request.path), status, message)
    return error(status, message)
