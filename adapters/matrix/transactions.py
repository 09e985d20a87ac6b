"""The appservice API on backline's aiohttp server: what the homeserver pushes to us.

``PUT /_matrix/app/v1/transactions/{txn}``: the ``hs_token`` is checked first (missing →
401, wrong → 403, nothing read or stored); a transaction already handled answers 200 and
acts no more (the ids are stored, so this holds across restarts); each event is handled in
order and committed before the 200, so a crash before the answer makes the homeserver send
it again. ``GET …/users/{id}`` and ``…/rooms/{alias}`` answer for our namespaces.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any, Protocol

from aiohttp import web

from bot.port import AdapterStore, new_ref

log = logging.getLogger("backline.matrix")
PREFIX = "/_matrix/app/v1"
KEEP_TXNS = 7 * 24 * 3600.0  # seconds a handled transaction id is remembered


class Receiver(Protocol):
    """What acts on pushed events."""

    async def event(self, event: dict[str, Any]) -> None:
        """A room event (timeline or state)."""

    async def ephemeral(self, event: dict[str, Any]) -> None:
        """An ephemeral event (typing, presence, receipts)."""

    async def user_query(self, mxid: str) -> bool:
        """Whether a user id in our namespace exists (made now if so)."""

    async def alias_query(self, alias: str) -> bool:
        """Whether a room alias in our namespace exists (made now if so)."""

    async def device_traffic(
        self, to_device: list[dict[str, Any]], device_lists: dict[str, Any], counts: dict[str, Any]
    ) -> None:
        """To-device events, device list changes and one-time key counts (encryption)."""


def field(body: dict[str, Any], name: str, unstable: str) -> Any:
    """A transaction field by its stable name or its unstable prefixed one."""
    return body.get(name, body.get(f"{unstable}.{name}"))


def matrix_error(status: int, errcode: str, error: str) -> web.Response:
    """A Matrix-style JSON error."""
    return web.json_response({"errcode": errcode, "error": error}, status=status)


class Transactions:
    """The routes, bound to one ``hs_token`` and one receiver."""

    def __init__(self, hs_token: str, store: AdapterStore, receiver: Receiver) -> None:
        self.hs_token = hs_token.encode()
        self.store = store
        self.receiver = receiver
        self.handled = 0  # transactions acted on since start

    def add_routes(self, app: web.Application) -> None:
        """Serve the appservice API on ``app``."""
        app.router.add_put(f"{PREFIX}/transactions/{{txn}}", self.transaction)
        app.router.add_get(f"{PREFIX}/users/{{user}}", self.user)
        app.router.add_get(f"{PREFIX}/rooms/{{alias}}", self.room)
        app.router.add_post(f"{PREFIX}/ping", self.ping)

    def refused(self, request: web.Request) -> web.Response | None:
        """401 without a token, 403 with a wrong one; None when it is the homeserver's."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        token = given if scheme.lower() == "bearer" else request.query.get("access_token")
        if not token:
            return matrix_error(401, "M_UNAUTHORIZED", "send the hs_token as a Bearer token")
        if not hmac.compare_digest(token.encode(), self.hs_token):
            log.warning("matrix: a request with a wrong hs_token was refused")
            return matrix_error(403, "M_FORBIDDEN", "that is not this appservice's hs_token")
        return None

    def seen(self, txn: str) -> bool:
        """Whether transaction ``txn`` was handled already."""
        return bool(self.store.rows("SELECT 1 FROM matrix_txns WHERE txn_id = ?", (txn,)))

    async def transaction(self, request: web.Request) -> web.Response:
        """Handle one pushed transaction, once."""
        refused = self.refused(request)
        if refused is not None:
            return refused
        txn = request.match_info["txn"]
        if self.seen(txn):
            return web.json_response({})
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return matrix_error(400, "M_NOT_JSON", "the body is not JSON")
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return matrix_error(400, "M_BAD_JSON", "'events' must be a list")
        ephemeral = field(body, "ephemeral", "de.sorunome.msc2409") or []
        to_device = field(body, "to_device", "de.sorunome.msc2409") or []
        device_lists = field(body, "device_lists", "org.matrix.msc3202") or {}
        counts = field(body, "device_one_time_keys_count", "org.matrix.msc3202") or {}
        if to_device or device_lists or counts:
            await self._guarded_call(
                self.receiver.device_traffic(
                    [e for e in to_device if isinstance(e, dict)],
                    device_lists if isinstance(device_lists, dict) else {},
                    counts if isinstance(counts, dict) else {},
                )
            )
        for item in [e for e in ephemeral if isinstance(e, dict)]:
            await self._guarded(self.receiver.ephemeral, item)
        for item in [e for e in events if isinstance(e, dict)]:
            await self._guarded(self.receiver.event, item)
        now = time.time()
        await self.store.write(
            ("INSERT OR IGNORE INTO matrix_txns (txn_id, at) VALUES (?, ?)", (txn, now)),
            ("DELETE FROM matrix_txns WHERE at < ?", (now - KEEP_TXNS,)),
            ("DELETE FROM matrix_seen WHERE at < ?", (now - KEEP_TXNS,)),
        )
        self.handled += 1
        return web.json_response({})

    async def _guarded_call(self, work: Any) -> None:
        try:
            await work
        except Exception:
            log.exception("matrix: could not handle device traffic ref=%s", new_ref())

    async def _guarded(self, handle: Any, item: dict[str, Any]) -> None:
        try:
            await handle(item)
        except Exception:
            log.exception(
                "matrix: could not handle %s %s ref=%s",
                item.get("type"),
                item.get("event_id", ""),
                new_ref(),
            )

    async def user(self, request: web.Request) -> web.Response:
        """Whether one of our puppets exists."""
        refused = self.refused(request)
        if refused is not None:
            return refused
        if await self.receiver.user_query(request.match_info["user"]):
            return web.json_response({})
        return matrix_error(404, "M_NOT_FOUND", "no such user here")

    async def room(self, request: web.Request) -> web.Response:
        """Whether one of our routing aliases exists (its lobby is made now)."""
        refused = self.refused(request)
        if refused is not None:
            return refused
        if await self.receiver.alias_query(request.match_info["alias"]):
            return web.json_response({})
        return matrix_error(404, "M_NOT_FOUND", "no such alias here")

    async def ping(self, request: web.Request) -> web.Response:
        """The homeserver checks that we answer."""
        refused = self.refused(request)
        return refused if refused is not None else web.json_response({})
