"""The Slack adapter: a bolt ``AsyncApp`` on backline's aiohttp server, or on Socket Mode.

Every request is acknowledged at once; the command then runs in the background and answers
through the Web API or the ``response_url`` (Slack's 3-second rule). Listeners only convert
(``convert.py``) and hand the ``Command`` to the core; sending is ``outlet.Outlet``'s job.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig, SlackConfigError
from adapters.slack.convert import (
    TARGET_CALLBACK,
    OpenTarget,
    from_action,
    from_message,
    from_slash,
    from_view_submission,
    target_modal,
)
from adapters.slack.outlet import TYPED_IN, Outlet
from adapters.slack.threads import Threads
from bot.config import Config, ConfigError
from bot.core import Core
from bot.dispatch.turn import Turn
from bot.events import Command

log = logging.getLogger("backline.slack")
Ack = Callable[..., Awaitable[Any]]
EVENTS = ("message", "app_home_opened")
# Work a listener spawned while an HTTP request is being answered: started after the ack is sent.
AFTER_RESPONSE: ContextVar[list[Coroutine[Any, Any, None]] | None] = ContextVar(
    "after_response", default=None
)  # manifest.yaml subscribes to exactly these


@dataclass(frozen=True)
class Reply:
    """Where a command's reply goes: ``url`` (response_url), ``thread`` or ``top`` (desk)."""

    how: str
    url: str = ""
    iid: str = ""


class SlackAdapter:
    """Connects one workspace: listeners in, the outlet out, bookkeeping in SQLite."""

    name = "slack"

    def __init__(self, config: SlackConfig, core: Core, http: web.Application | None) -> None:
        self.config = config
        self.core = core
        self.client = AsyncWebClient(
            token=config.bot_token, base_url=config.api_base_url, retry_handlers=[]
        )
        self.threads = Threads(core.store)
        self.outlet = Outlet(core, self.client, self.threads, config.pace_seconds)
        self.verifier = SignatureVerifier(config.signing_secret)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.signing_secret,
            process_before_response=True,  # ack() is the response; slow work is our task
            request_verification_enabled=config.mode == "http",
        )
        self.home_seen: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.socket: AsyncSocketModeHandler | None = None
        self._listen()
        if config.mode == "http" and http is not None:
            http.router.add_post(config.path, self.handle_http)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Read the bookkeeping, join delivery, connect Socket Mode if configured."""
        self.threads.open()
        self.core.delivery.attach(self.outlet)
        if self.config.mode == "socket":
            self.socket = AsyncSocketModeHandler(
                self.app, self.config.app_token, web_client=self.client
            )
            await self.socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        """Finish what is queued, then disconnect."""
        await self.settle()
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        await self.outlet.pacer.stop()
        if self.outlet in self.core.delivery.outlets:
            self.core.delivery.detach(self.outlet)

    async def settle(self) -> None:
        """Wait until every running command and queued Slack call is done."""
        while self._tasks or not self.outlet.pacer.idle():
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.outlet.pacer.drain()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run slow work after the ack (over HTTP: once the ack's bytes are written)."""
        deferred = AFTER_RESPONSE.get()
        if deferred is not None:
            deferred.append(work)
            return
        self._start(work)

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- HTTP ------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """``POST /slack/events``: verify, parse, dispatch to bolt; 401/400 store nothing."""
        body = await request.text()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        try:
            valid = self.verifier.is_valid(body, timestamp, signature)
        except ValueError:
            valid = False
        if not valid:
            return web.json_response({"error": "invalid signature or stale timestamp"}, status=401)
        try:
            bolt = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers)
            )
        except ValueError:
            return web.json_response({"error": "malformed body"}, status=400)
        if not _recognised(bolt.body):
            return web.json_response({"error": "not a Slack request"}, status=400)
        deferred: list[Coroutine[Any, Any, None]] = []
        AFTER_RESPONSE.set(deferred)
        response = await to_aiohttp_response(await self.app.async_dispatch(bolt))
        await response.prepare(request)
        await response.write_eof()
        for work in deferred:
            self._start(work)
        return response

    # -- listeners -------------------------------------------------------------------

    def _listen(self) -> None:
        self.app.command(self.config.command)(self._on_slash)
        self.app.action(re.compile(r"^bl_"))(self._on_action)
        self.app.view(TARGET_CALLBACK)(self._on_view)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)

    async def _on_slash(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        command = from_slash(body)
        if command is not None:
            self.spawn(self.run(command, Reply("url", url=str(body.get("response_url", "")))))

    async def _on_action(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        found = from_action(body)
        if isinstance(found, OpenTarget):
            view = target_modal(found.verb, found.interaction)
            self.spawn(self._open_modal(found.trigger_id, view))
        elif found is not None:
            where = Reply("thread", iid=found.context) if found.context else Reply("top")
            self.spawn(self.run(found, where))

    async def _open_modal(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def _on_view(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        command = from_view_submission(body)
        if command is not None:
            self.spawn(self.run(command, Reply("thread", iid=command.context or "")))

    async def _on_message(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        event = body.get("event") or {}
        card = self.threads.card_at(str(event.get("channel")), str(event.get("thread_ts")))
        command = from_message(event, body.get("event_id"), card.iid if card else None)
        if command is None:
            return
        if card is None:
            self.spawn(self.run(command, Reply("top")))
            return
        typed = (card.lane, card.iid, str(event.get("text", "")).strip())
        self.spawn(self.run(command, Reply("thread", iid=card.iid), typed))

    async def _on_home(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        event = body.get("event") or {}
        member = self.core.directory.identify("slack", str(event.get("user")))
        if member is not None and event.get("tab", "home") == "home":
            self.home_seen.add(member.id)
            self.outlet.publish_home(member.id)

    # -- running a command -----------------------------------------------------------

    async def run(
        self, command: Command, reply: Reply, typed: tuple[str, str, str] | None = None
    ) -> None:
        """Hand one command to the core; its reply goes where ``reply`` says."""
        member = self.core.directory.identify("slack", command.sender)
        TYPED_IN.set(typed)

        async def respond(turn: Turn) -> None:
            touched = set(self.core.engine.touched)
            self.outlet.refresh(touched)
            if member is not None:
                self.outlet.show_cards(member.id, touched)
            if turn.duplicate or not turn.reply:
                return
            if reply.how == "url" and reply.url:
                self.outlet.reply_via(reply.url, member.id if member else "", turn.reply)
            elif member is None:
                log.warning(
                    "reply to unknown slack user %s dropped: %s", command.sender, turn.reply
                )
            elif reply.how == "thread" and reply.iid:
                self.outlet.reply_in_thread(member.id, reply.iid, turn.reply)
            else:
                self.outlet.reply_top(member.id, turn.reply)

        await self.core.handle(command, respond)
        if member is not None and member.id in self.home_seen:
            self.outlet.publish_home(member.id)


def _recognised(body: Mapping[str, Any]) -> bool:
    """A slash command, an interactivity payload or an Events API envelope."""
    return bool(body.get("command") or body.get("type"))


def slack_adapter(config: Config, core: Core, http: web.Application) -> SlackAdapter | None:
    """The ``ADAPTERS`` factory: the adapter when ``[slack] enabled``, refusing bad secrets."""
    settings: SlackConfig = config.slack
    if not settings.enabled:
        return None
    try:
        settings.check()
    except SlackConfigError as exc:
        raise ConfigError(f"slack: {exc}") from None
    return SlackAdapter(settings, core, http)
