"""Drives backline's Slack adapter as Slack does: signed payloads posted to the running server.

backline runs as ``serve`` builds it (``build_adapters`` with the Slack plugin, its migrations
run); customers, who are not on Slack, come through a console adapter on the same core.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import io
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from adapters.console.adapter import ConsoleAdapter
from adapters.console.convert import Sim
from adapters.slack import PLUGIN
from adapters.slack.adapter import SlackAdapter
from adapters.slack.config import SlackConfig
from bot.app import build_adapters
from bot.clock import FakeClock
from bot.config import Config
from bot.core import Core
from bot.http import build_http_app
from bot.port import Batch, Port, Relay, relaying
from tests.adapters.slack.check import USERS
from tests.adapters.slack.stub import SlackStub
from tests.support.console import RULES

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
_DELIVERY = re.compile(r"^\[(?P<who>[^\]]+)\] ?(?P<text>.*)$")


def payload(name: str) -> dict[str, Any]:
    """A recorded payload from ``tests/payloads/slack``."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 signature headers over ``v0:TIMESTAMP:BODY``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class Console:
    """The console adapter on the same core: customers, and members who are only there."""

    def __init__(self, core: Core, out: io.StringIO) -> None:
        self.out = out
        self.adapter = ConsoleAdapter(Port(core, "console"), self.out, echo=False)
        core.delivery.attach(self.adapter)

    async def simulate(self, action: str, name: str, target: str = "", text: str = "") -> None:
        """A customer acts (``chat``, ``say``, ``hangup``) as ``sim`` lines do."""
        await self.adapter.simulate(Sim(action, name, target, text))

    def received(self, who: str) -> list[str]:
        """Texts the console showed ``who`` (``customer:Ann``, ``@chen``), oldest first."""
        lines = self.out.getvalue().splitlines()
        return [m["text"] for m in map(_DELIVERY.match, lines) if m and m["who"] == who]

    def text(self) -> str:
        """Everything every customer received, one line each."""
        lines = self.out.getvalue().splitlines()
        matched = (m for m in map(_DELIVERY.match, lines) if m)
        return "\n".join(m["text"] for m in matched if m["who"].startswith("customer:"))


class SlackDriver:
    """backline's HTTP server with the Slack adapter, and a Slack that signs its requests."""

    def __init__(self, database: Path, stub: SlackStub, **settings: Any) -> None:
        self.database = database
        self.stub = stub
        defaults: dict[str, Any] = {
            "enabled": True,
            "bot_token": TOKEN,
            "signing_secret": SECRET,
            "api_base_url": stub.base_url,
            "pace_seconds": 0.0,
        }
        self.config = SlackConfig(**{**defaults, **settings})
        self.session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._n = 0
        self.written: dict[tuple[str, str], str] = {}  # (channel, text) → ts, for edits
        self.console_out = io.StringIO()  # one transcript across restarts
        self._open()

    def _open(self) -> None:
        self.core = Core.open(RULES, self.database, FakeClock())
        self.port = Port(self.core, "slack")
        self.http = build_http_app(self.core)
        config = Config(adapters={"slack": self.config})
        (adapter,) = build_adapters(config, self.core, self.http, {"slack": PLUGIN})
        assert isinstance(adapter, SlackAdapter)
        self.adapter = adapter
        self.customers = Console(self.core, self.console_out)

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1 and start the adapter."""
        self._runner = web.AppRunner(self.http, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{self.config.path}"
        if self.session is None:
            self.session = aiohttp.ClientSession()
        await self.adapter.start()

    async def stop(self) -> None:
        """Finish what is queued, stop, close the store (bounded: a hung request is killed)."""
        try:
            await asyncio.wait_for(self.adapter.stop(), 10)
        except TimeoutError:
            await self.adapter.outlet.pacer.stop()
        if self.session is not None:
            await self.session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self.core.store.close()

    async def restart(self) -> None:
        """backline dies (nothing queued is sent, nothing flushed) and starts again."""
        await self.adapter.outlet.pacer.stop()
        self.core.delivery.detach(self.adapter)
        if self._runner is not None:
            await self._runner.cleanup()  # a request still being answered is cancelled
        self.core.store.close()
        self._open()
        await self.start()

    def _next(self) -> int:
        self._n += 1
        return self._n

    def presence(self, member: str) -> str:
        """The member's presence as backline describes it ("not ready (lunch)")."""
        return self.port.member_by_id(member).presence

    # -- posting as Slack ------------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str]:
        """Post a signed body; status 0 when no answer came within ``timeout`` seconds."""
        assert self.session is not None
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        limit = aiohttp.ClientTimeout(total=timeout)
        try:
            async with self.session.post(
                self.url, data=body.encode(), headers=all_headers, timeout=limit
            ) as resp:
                return resp.status, await resp.text()
        except TimeoutError:
            return 0, ""

    async def post_form(self, form: dict[str, Any], **headers: str) -> tuple[int, str]:
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", headers)

    async def post_payload(self, data: dict[str, Any]) -> tuple[int, str]:
        return await self.post_form({"payload": json.dumps(data)})

    async def post_event(
        self, data: dict[str, Any], *, timeout: float | None = None, **headers: str
    ) -> tuple[int, str]:
        return await self.post(json.dumps(data), "application/json", headers, timeout)

    async def post_retry(self, data: dict[str, Any], attempt: int = 1) -> tuple[int, str]:
        """Slack delivers an event again: it got no ack in time."""
        retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(json.dumps(data), "application/json", retry)

    # -- what members do ---------------------------------------------------------------

    async def slash(self, member: str, text: str, *, trigger: str | None = None) -> int:
        form = payload("slash_command")
        n = self._next()
        form.update(
            user_id=USERS[member],
            user_name=member,
            channel_id=f"D{USERS[member]}",
            text=text,
            response_url=self.stub.response_url(f"slash{n}-{member}"),
            trigger_id=trigger or f"1700000000.{n}.trigger",
        )
        status, _ = await self.post_form(form)
        await self.settle()
        return status

    def action_body(
        self, member: str, channel: str, ts: str, action: dict[str, Any]
    ) -> dict[str, Any]:
        body = payload("block_actions")
        n = self._next()
        body["user"].update(id=USERS[member], username=member, name=member)
        body["container"].update(message_ts=ts, channel_id=channel)
        body["channel"]["id"] = channel
        body["message"]["ts"] = ts
        body["trigger_id"] = f"1700000001.{n}.trigger"
        body["response_url"] = self.stub.response_url(f"action{n}")
        body["actions"] = [{**body["actions"][0], **action, "action_ts": f"1700000001.{n:06d}"}]
        return body

    async def click(self, member: str, channel: str, iid: str, label: str) -> int:
        """Press the button ``label`` on the card of ``iid`` in ``channel``."""
        card = self.stub.card(channel, iid)
        element = next(
            e
            for b in card.blocks
            if b.get("type") == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
        )
        action = {
            "action_id": element["action_id"],
            "value": element["value"],
            "text": element["text"],
            "block_id": f"card:{iid}",
        }
        status, _ = await self.post_payload(self.action_body(member, channel, card.ts, action))
        await self.settle()
        return status

    async def submit_target(self, member: str, verb: str, iid: str, target: str) -> int:
        """The member types ``target`` in the target modal and submits it."""
        status, _ = await self.submit_modal(member, verb, iid, typed=target)
        return status

    async def submit_modal(
        self, member: str, verb: str, iid: str, *, typed: str = "", picked: str = ""
    ) -> tuple[int, dict[str, Any]]:
        """Submit the target modal (``picked``: a Slack user in its select); the ack's body."""
        body = payload("view_submission")
        n = self._next()
        body["user"].update(id=USERS[member], username=member, name=member)
        body["view"]["private_metadata"] = json.dumps({"verb": verb, "interaction": iid})
        values = body["view"]["state"]["values"]
        values["target"]["target"]["value"] = typed or None
        values["member"] = {"member": {"type": "users_select", "selected_user": picked or None}}
        body["view"]["hash"] = f"1700000003.h{n}"
        status, text = await self.post_payload(body)
        await self.settle()
        return status, json.loads(text) if text else {}

    def message_event(
        self,
        member: str,
        channel: str,
        text: str,
        thread_ts: str | None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        body = payload("message_in_thread")
        n = self._next()
        event = body["event"]
        event.update(user=USERS[member], channel=channel, text=text, ts=f"1700000100.{n:06d}")
        event["event_ts"] = event["ts"]
        event["channel_type"] = "mpim" if channel.startswith("G") else "im"
        if thread_ts is None:
            del event["thread_ts"], event["parent_user_id"]
        else:
            event["thread_ts"] = thread_ts
        body["event_id"] = event_id or f"Ev0MSG{n:05d}"
        return body

    async def write(
        self, member: str, channel: str, text: str, thread_ts: str | None, **event: Any
    ) -> int:
        """The member writes in a channel (a thread when ``thread_ts``); ``event`` adds to
        the event (``subtype``, ``files``)."""
        body = self.message_event(member, channel, text, thread_ts)
        body["event"].update(event)
        self.written[(channel, text)] = body["event"]["ts"]
        status, _ = await self.post_event(body)
        await self.settle()
        return status

    async def edit(self, member: str, channel: str, before: str, after: str, thread_ts: str) -> int:
        """The member edits their reply ``before`` in a thread to read ``after``."""
        body = self.message_event(member, channel, after, thread_ts)
        message = {k: v for k, v in body["event"].items() if k not in ("channel", "event_ts")}
        message["edited"] = {"user": USERS[member], "ts": message["ts"]}
        # as Slack does: the edited message keeps the ts it was first posted with
        message["ts"] = self.written.get((channel, before), message["ts"])
        self.written[(channel, after)] = message["ts"]
        body["event"] = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": channel,
            "message": message,
            "previous_message": {**message, "text": before},
            "ts": f"1700000200.{self._next():06d}",
            "event_ts": f"1700000200.{self._next():06d}",
            "channel_type": body["event"]["channel_type"],
        }
        status, _ = await self.post_event(body)
        await self.settle()
        return status

    async def api_interaction(self, **data: Any) -> tuple[int, dict[str, Any]]:
        """``POST /api/interactions`` (a web form, a CRM) on backline's server."""
        assert self.session is not None
        url = self.url.removesuffix(self.config.path) + "/api/interactions"
        async with self.session.post(url, json=data) as resp:
            answer = resp.status, await resp.json()
        await self.settle()
        return answer

    async def open_home(self, member: str) -> int:
        body = payload("app_home_opened")
        body["event"].update(user=USERS[member], channel=f"D{USERS[member]}")
        body["event_id"] = f"Ev0HOME{self._next():04d}"
        status, _ = await self.post_event(body)
        await self.settle()
        return status

    async def choose_presence(self, member: str, label: str) -> int:
        """On their App Home, the member picks the first presence option starting ``label``."""
        await self.open_home(member)
        view = self.stub.homes[USERS[member]]
        select = next(b["accessory"] for b in view["blocks"] if b.get("block_id") == "presence")
        option = next(o for o in select["options"] if o["text"]["text"].startswith(label))
        body = payload("home_presence_select")
        n = self._next()
        body["user"].update(id=USERS[member], username=member, name=member)
        body["trigger_id"] = f"1700000002.{n}.trigger"
        body["actions"][0].update(selected_option=option, action_ts=f"1700000002.{n:06d}")
        status, _ = await self.post_payload(body)
        await self.settle()
        return status

    async def settle(self) -> None:
        """Wait until the adapter answered every request and made every queued call."""
        await asyncio.wait_for(self.adapter.settle(), 10)

    # -- what customers do -------------------------------------------------------------

    async def customer_arrives(self, name: str, target: str, text: str) -> None:
        """A customer opens a chat to ``target``; then Slack catches up."""
        await self.customers.simulate("chat", name, target, text)
        await self.settle()

    async def customer_says(self, name: str, text: str) -> None:
        """The customer writes in their chat; then Slack catches up."""
        await self.customers.simulate("say", name, text=text)
        await self.settle()


class Recorder:
    """Another platform's adapter that records what reaches it (chen is only on XMPP)."""

    reaches_everyone = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[str] = []
        self.relays: list[tuple[str, str, Relay | None]] = []  # (address, text, relay)

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def send(self, batch: Batch) -> None:
        """Record ``ADDRESS TEXT`` per message."""
        self.received += [f"{m.address} {m.text}" for m in batch.messages]
        self.relays += [(m.address, m.text, relaying()) for m in batch.messages]


def desk(member: str) -> str:
    """The channel id the stub gives a member's DM with the bot."""
    return f"D{USERS[member]}"


def group_dm(*members: str) -> str:
    """The channel id the stub gives a group DM of these members and the bot."""
    return "G" + "-".join(sorted(USERS[m] for m in members))
