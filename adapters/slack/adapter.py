"""The Slack adapter: a bolt ``AsyncApp`` on backline's aiohttp server, or on Socket Mode.

Every listener commits its command through the port *before* it acknowledges, so a crash
after the ack can never lose a command (a crash before it gets no ack, and Slack retries;
the retry's key makes it act once). Commands take milliseconds, well inside Slack's three
seconds; the slow Web API work they queue (replies, cards) starts after the ack is written
and is paced in the background by ``outlet.Outlet``. Listeners only convert (``convert.py``,
``messages.py``, ``modal.py``); text is decoded once, here at the edge, and escaped on the
way out. ``auth.test`` runs at start-up, so no ack waits for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.config import SlackConfig
from adapters.slack.convert import (
    PLATFORM,
    TARGET_CALLBACK,
    OpenTarget,
    Typed,
    from_action,
    from_slash,
)
from adapters.slack.failures import error_code
from adapters.slack.messages import from_event, meaning
from adapters.slack.modal import (
    MEMBER_BLOCK,
    TEXT_BLOCK,
    errors,
    from_view_submission,
    target_modal,
)
from adapters.slack.outlet import TYPED_IN, Outlet
from adapters.slack.ratelimit import LimitedClient, MethodLimits
from adapters.slack.recent import Recent
from adapters.slack.threads import Threads
from bot.port import Batch, Port, Reply

log = logging.getLogger("backline.slack")
Ack = Callable[..., Awaitable[Any]]
EVENTS = ("message", "app_home_opened")  # manifest.yaml subscribes to exactly these


@dataclass(frozen=True)
class Where:
    """Where a command's reply goes: ``url``, ``thread``, ``top`` (desk) or ``modal``.

    ``url`` is a response_url; in a ``modal`` a refusal goes back in the submission's ack;
    ``channel`` is where the Slack user wrote, for one who is not in the directory.
    """

    how: str
    url: str = ""
    iid: str = ""
    channel: str = ""


class SlackAdapter:
    """Connects one workspace: listeners in, the outlet out, bookkeeping in its own tables."""

    name = PLATFORM
    reaches_everyone = False

    def __init__(self, config: SlackConfig, port: Port, http: web.Application | None) -> None:
        self.config = config
        self.port = port
        self.client = LimitedClient(
            MethodLimits(paced=config.pace_seconds > 0),
            token=config.bot_token,
            base_url=config.api_base_url,
            retry_handlers=[],
        )
        self.threads = Threads(port.store)
        self.outlet = Outlet(port, self.client, self.threads, config.pace_seconds)
        self.verifier = SignatureVerifier(config.signing_secret)
        self.identity: AsyncSlackResponse | None = None  # auth.test, asked once at start-up
        self._authorized: AuthorizeResult | None = None  # built from it once

        async def authorize() -> AuthorizeResult:  # bolt passes a callable what it names
            return await self._authorize()

        self.app = AsyncApp(
            # bolt's own client carries no token: bolt takes it from ``_authorize``
            client=AsyncWebClient(base_url=config.api_base_url, retry_handlers=[]),
            authorize=authorize,
            signing_secret=config.signing_secret,
            process_before_response=True,  # the listener's return is the ack: commit first
            # ``handle_http`` checks every signature before bolt sees the request (Socket
            # Mode needs none): checking it again would only cost each ack one more HMAC
            request_verification_enabled=False,
        )
        self.home_seen: set[str] = set()
        self.answered = Recent()  # keys of deliveries this process replied to
        self.socket: AsyncSocketModeHandler | None = None
        self._listen()
        if config.mode == "http" and http is not None:
            http.router.add_post(config.path, self.handle_http)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Read the bookkeeping, ask ``auth.test`` who the bot is; connect Socket Mode.

        Every Web API call and ``response_url`` reply from here on shares one HTTP session:
        its connections stay open, and no reply sets up a client (and a resolver) of its own.
        """
        self.threads.open()
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession()
        try:
            await self._authorize()
        except SlackApiError as exc:  # bolt asks again on the first request
            log.error("slack auth.test failed at start-up: %s", error_code(exc) or exc)
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
        if self.client.session is not None:
            await self.client.session.close()

    async def _authorize(self) -> AuthorizeResult:
        """Who the bot is in its workspace: ``auth.test`` once, then remembered."""
        if self._authorized is None:
            if self.identity is None:
                self.identity = await self.client.auth_test()
            self._authorized = AuthorizeResult.from_auth_test_response(
                bot_token=self.config.bot_token, auth_test_response=self.identity
            )
        return self._authorized

    def names(self, user: str) -> str | None:
        """The directory member behind a Slack user id."""
        found = self.port.member(user)
        return found.id if found is not None else None

    async def send(self, batch: Batch) -> None:
        """One commit's messages for Slack members, and its cards to refresh."""
        await self.outlet.send(batch)

    async def settle(self) -> None:
        """Wait until every request being answered and every queued Slack call is done."""
        await self.outlet.pacer.settle()

    # -- HTTP ------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """``POST /slack/events``: verify, parse, dispatch to bolt; 401/400 store nothing.

        What the command queued for Slack starts once the ack's bytes are written.
        """
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
        with self.outlet.pacer.holding():
            response = await to_aiohttp_response(await self.app.async_dispatch(bolt))
            await response.prepare(request)
            await response.write_eof()
        return response

    # -- listeners: commit, then ack -------------------------------------------------

    def _listen(self) -> None:
        self.app.command(self.config.command)(self._on_slash)
        self.app.action(re.compile(r"^bl_"))(self._on_action)
        self.app.view(TARGET_CALLBACK)(self._on_view)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)

    async def _on_slash(self, ack: Ack, body: dict[str, Any]) -> None:
        typed = from_slash(body, self.names)
        if typed is not None:
            await self.run(typed, Where("url", url=str(body.get("response_url", ""))))
        await ack()

    async def _on_action(self, ack: Ack, body: dict[str, Any]) -> None:
        found = from_action(body)
        if isinstance(found, OpenTarget):
            self._open_modal(found)
        elif found is not None:
            where = Where("thread", iid=found.context) if found.context else Where("top")
            await self.run(found, where)
        await ack()

    def _open_modal(self, found: OpenTarget) -> None:
        member = self.port.member(found.user)
        if member is None:
            return
        view = target_modal(found.verb, found.interaction)

        async def open_it() -> None:
            try:
                await self.client.views_open(trigger_id=found.trigger_id, view=view)
            except SlackApiError as exc:  # an expired trigger cannot be retried: say so
                why = error_code(exc) or "refused"
                text = (
                    f"Slack could not open the {found.verb} form ({why}); type "
                    f"`!{found.verb} TARGET` in this thread instead."
                )
                self.outlet.reply_in_thread(member.id, found.interaction, text)

        self.outlet.submit(f"modal:{member.id}", open_it, f"the {found.verb} form")

    async def _on_view(self, ack: Ack, body: dict[str, Any]) -> None:
        """The target modal: checked, committed, then acked — with errors if it cannot work."""
        submitted = from_view_submission(body, self.names)
        if submitted is None:
            await ack()
            return
        if submitted.picked and submitted.typed:
            await ack(**errors(TEXT_BLOCK, "Pick a member or type a target, not both."))
            return
        target = submitted.typed
        if submitted.picked:
            member = self.names(submitted.picked)
            if member is None:
                text = "Not in backline's directory; ask an admin to `link` them."
                await ack(**errors(MEMBER_BLOCK, text))
                return
            target = f"@{member}"
        if not target:
            await ack(**errors(MEMBER_BLOCK, "Pick a member, or type a target below."))
            return
        typed = Typed(
            submitted.user, f"{submitted.verb} {target}", submitted.key, submitted.interaction
        )
        reply = await self.run(typed, Where("modal", iid=submitted.interaction))
        if reply.outcome in ("refused", "error"):
            await ack(**errors(TEXT_BLOCK if submitted.typed else MEMBER_BLOCK, reply.text))
        else:
            await ack()

    async def _on_message(self, ack: Ack, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        channel = str(event.get("channel"))
        written = from_event(event, body.get("event_id"), self.names)
        if written is None:
            await ack()
            return
        card = self.threads.card_at(channel, written.thread) if written.thread else None
        iid = card.iid if card is not None else None
        meant = meaning(written, iid, bool(written.files) and self._files_reach(iid))
        where = Where("thread", iid=iid, channel=channel) if iid else Where("top", channel=channel)
        if meant.note:
            self._answer_note(written.user, where, meant.note)
        typed = meant.typed
        if typed is not None and card is not None and typed.text.startswith("say "):
            await self.run(typed, where, (card.lane, card.iid, typed.text[4:]))
        elif typed is not None:
            await self.run(typed, where)
        await ack()

    def _files_reach(self, iid: str | None) -> bool:
        """Whether files shared in ``iid``'s thread may go on as links: not to a customer."""
        view = self.port.interaction_view(iid, None) if iid else None
        return view is not None and (view.kind == "consultation" or not view.customer)

    def _answer_note(self, user: str, where: Where, text: str) -> None:
        member = self.names(user)
        if member is None:
            self.outlet.reply_stranger(user, where.channel, text)
        elif where.iid:
            self.outlet.reply_in_thread(member, where.iid, text)
        else:
            self.outlet.reply_top(member, text)

    async def _on_home(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        event = body.get("event") or {}
        member = self.port.member(str(event.get("user")))
        if member is not None and event.get("tab", "home") == "home":
            self.home_seen.add(member.id)
            self.outlet.publish_home(member.id)

    # -- running a command -----------------------------------------------------------

    async def run(
        self, typed: Typed, where: Where, echo: tuple[str, str, str] | None = None
    ) -> Reply:
        """Commit one command through the port; its reply is queued where ``where`` says.

        Raises what the port raised: the listener then never acks, and Slack retries.
        """
        echoes = [echo] if echo else []
        token = TYPED_IN.set(echoes)

        async def respond(reply: Reply) -> None:
            self._answer(typed, where, reply)

        try:
            reply = await self.port.command(
                typed.user,
                typed.text,
                respond,
                key=typed.key,
                context=typed.context,
                origin=typed.origin,
                corrects=typed.corrects,
            )
        finally:
            echoes.clear()  # timers scheduled meanwhile copied this context
            TYPED_IN.reset(token)
        if reply.member is not None and reply.member in self.home_seen:
            self.outlet.publish_home(reply.member)
        return reply

    def _answer(self, typed: Typed, where: Where, reply: Reply) -> None:
        """Queue the reply; a retry is answered only if this process never answered it.

        A retry after a crash between commit and ack finds the command done: its stored
        reply goes out now, since the first one died with the process.
        """
        found = self.port.member(typed.user)
        member = reply.member or (found.id if found else None)
        if member is not None:
            self.outlet.show_cards(member, reply.touched)
        if not reply.text or (reply.duplicate and (not typed.key or self.answered.seen(typed.key))):
            return
        if typed.key:
            self.answered.count(typed.key)
        if where.how == "url" and where.url:
            self.outlet.reply_via(where.url, member or "", reply.text)
        elif where.how == "modal" and reply.outcome in ("refused", "error"):
            return  # the modal shows it, in the submission's ack
        elif member is None and where.channel:
            self.outlet.reply_stranger(typed.user, where.channel, reply.text)
        elif member is None:
            log.warning("reply to unknown slack user %s dropped: %s", typed.user, reply.text)
        elif where.how in ("thread", "modal") and where.iid:
            self.outlet.reply_in_thread(member, where.iid, reply.text)
        else:
            self.outlet.reply_top(member, reply.text)


def _recognised(body: Mapping[str, Any]) -> bool:
    """A slash command, an interactivity payload, an Events API envelope or an SSL check."""
    return bool(body.get("command") or body.get("type") or body.get("ssl_check") == "1")
