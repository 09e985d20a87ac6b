"""The homeserver as backline's application service speaks to it, through mautrix.

``mautrix.appservice.AppServiceAPI`` gives an ``IntentAPI`` per user (the bot, routing
puppets, customer puppets) and keeps room state in mautrix's own state store. ``call`` runs
one request with what the homeserver asks for: it waits out ``M_LIMIT_EXCEEDED`` (as long as
its ``retry_after_ms`` says) and retries
with backoff while the homeserver is unreachable, telling the adapter once when it is
down and once when it is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Protocol, TypeVar

import aiohttp
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.appservice.state_store import ASStateStore
from mautrix.client.state_store import MemoryStateStore
from mautrix.errors import MatrixConnectionError, MatrixRequestError, MLimitExceeded
from mautrix.types import RoomID, UserID

from adapters.matrix.config import MatrixConfig

log = logging.getLogger("backline.matrix")
T = TypeVar("T")
UNREACHABLE = (MatrixConnectionError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
FIRST_BACKOFF = 0.2
LIMITED_WAIT = 1.0  # when the homeserver names no wait: this long, doubling
# The wait a 429 asked for, read from its body (mautrix's error keeps only the message).
RETRY_AFTER: ContextVar[float | None] = ContextVar("matrix_retry_after", default=None)


async def _note_retry_after(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    """Keep ``retry_after_ms`` (or ``Retry-After``) of an ``M_LIMIT_EXCEEDED`` answer."""
    response = params.response
    if response.status != 429:
        return
    wait: float | None = None
    try:
        body = json.loads(await response.read())  # aiohttp keeps the body for mautrix
        if isinstance(body, dict) and isinstance(body.get("retry_after_ms"), int | float):
            wait = float(body["retry_after_ms"]) / 1000
    except (ValueError, aiohttp.ClientError):
        pass
    if wait is None and response.headers.get("Retry-After", "").isdigit():
        wait = float(response.headers["Retry-After"])
    RETRY_AFTER.set(wait)


class StatusListener(Protocol):
    """Told when the homeserver stops or starts answering."""

    def homeserver_up(self, *, up: bool) -> None:
        """The homeserver answered again (``up``) or stopped answering."""


class MemoryASStateStore(ASStateStore, MemoryStateStore):
    """mautrix's in-memory room state, fed by every event the homeserver pushes."""

    def __init__(self) -> None:
        ASStateStore.__init__(self)
        MemoryStateStore.__init__(self)

    # mautrix.crypto's StateStore (is_encrypted, get_encryption_info, find_shared_rooms)
    async def find_shared_rooms(self, user_id: UserID) -> list[RoomID]:
        """The encrypted rooms ``user_id`` is in (for key sharing after device changes)."""
        return [
            room
            for room, members in self.members.items()
            if user_id in members and await self.is_encrypted(room)
        ]


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the homeserver is away (not that it refused the request)."""
    if isinstance(exc, UNREACHABLE):
        return True
    return isinstance(exc, MatrixRequestError) and getattr(exc, "http_status", 0) in (
        502,
        503,
        504,
    )


class Homeserver:
    """The client-server API as the appservice, with retries."""

    def __init__(self, config: MatrixConfig, status: StatusListener) -> None:
        self.config = config
        self.status = status
        self.state = MemoryASStateStore()
        self.up = True
        self._session: aiohttp.ClientSession | None = None
        self._api: AppServiceAPI | None = None
        self._intents: dict[str, IntentAPI] = {}

    async def open(self) -> None:
        """Open the HTTP session and the bot's intent."""
        limits = aiohttp.TraceConfig()
        limits.on_request_end.append(_note_retry_after)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30), trace_configs=[limits]
        )
        self._api = AppServiceAPI(
            base_url=self.config.homeserver,
            bot_mxid=UserID(self.config.bot),
            token=self.config.as_token,
            log=logging.getLogger("backline.matrix.mautrix"),  # type: ignore[arg-type]
            state_store=self.state,
            client_session=self._session,
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
        self._session = self._api = None
        self._intents.clear()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session every request uses (closed by ``close``)."""
        if self._session is None:
            raise RuntimeError("the homeserver connection is not open")
        return self._session

    @property
    def bot(self) -> IntentAPI:
        """The bot's intent."""
        return self.intent(self.config.bot)

    def intent(self, mxid: str) -> IntentAPI:
        """The intent of the bot or one of our puppets."""
        if self._api is None:
            raise RuntimeError("the homeserver connection is not open")
        found = self._intents.get(mxid)
        if found is None:
            if mxid == self.config.bot:
                found = self._api.bot_intent()
            else:
                found = self._api.intent(UserID(mxid))
            self._intents[mxid] = found
        return found

    async def call(self, request: Callable[[], Awaitable[T]], *, patient: bool = True) -> T:
        """Run ``request``; wait out rate limits, and (``patient``) an unreachable server."""
        backoff = FIRST_BACKOFF
        limited = LIMITED_WAIT
        while True:
            RETRY_AFTER.set(None)
            try:
                result = await request()
            except MLimitExceeded:
                asked = RETRY_AFTER.get()
                wait = asked if asked is not None else limited
                log.warning("matrix: rate limited (M_LIMIT_EXCEEDED); waiting %.2fs", wait)
                await asyncio.sleep(wait)
                limited = min(limited * 2, self.config.retry_max)
                continue
            except Exception as exc:
                if not (patient and unavailable(exc)):
                    raise
                if self.up:
                    self.up = False
                    self.status.homeserver_up(up=False)
                log.warning("matrix: homeserver unreachable (%s); retry in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.retry_max)
                continue
            if not self.up:
                self.up = True
                self.status.homeserver_up(up=True)
            return result
