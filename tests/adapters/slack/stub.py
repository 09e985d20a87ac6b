"""A local Slack Web API: records every call, answers like Slack, fails on request.

Tests read what each member *sees* from it: the messages of each channel with card edits
applied, each thread's replies, each card's buttons, ephemeral messages, App Home views.
It is as strict as Slack: every payload is validated (``check.problems``) and a wrong one
is answered ``invalid_blocks`` (``msg_too_long``, ``invalid_arguments``) as Slack does; and
``stop`` fails the test if any payload it received was wrong (``invalid``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.adapters.slack.check import problems, render

BOT_USER = "UBACKLINE"


@dataclass
class Fault:
    """Answer the next ``times`` calls of ``method`` with an error."""

    method: str
    status: int = 200
    error: str = ""
    retry_after: str | None = None
    times: int = 1


@dataclass
class Posted:
    """One message as a channel shows it now."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    user: str = BOT_USER
    edits: int = 0
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shown(self) -> str:
        """What Slack shows of it: text or a notice's attachment, mentions as ``@member``."""
        parts = [self.text] if self.text else []
        parts += [
            str(b["text"]["text"])
            for a in self.attachments
            for b in a.get("blocks", [])
            if b.get("type") == "section"
        ]
        return render("\n".join(parts))


class SlackStub:
    """``base_url`` for ``AsyncWebClient``; also the ``response_url`` host and a Socket Mode URL."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.called_at: list[tuple[str, float]] = []  # (method, loop time) of every call
        self.invalid: list[tuple[str, list[str]]] = []  # (method, what was wrong)
        self.delays: dict[str, float] = {}  # method → seconds it takes to answer
        self.faults: list[Fault] = []
        self.messages: dict[tuple[str, str], Posted] = {}
        self.responses: list[dict[str, Any]] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.homes: dict[str, dict[str, Any]] = {}
        self.socket_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket_in: list[dict[str, Any]] = []
        self.on_socket_in: list[Callable[[dict[str, Any]], None]] = []  # run as each arrives
        # run as each Web API call (method) or response_url reply ("response_url") arrives
        self.on_call: list[Callable[[str, dict[str, Any]], None]] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """Where the Web API lives (ends with a slash, like slack_sdk's default)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        """A ``response_url`` of a slash command or an action."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def routes(self, app: web.Application) -> None:
        """Serve the Web API, the ``response_url`` host and Socket Mode from ``app``."""
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket", self._socket)

    async def stop(self) -> None:
        """Shut down; fails if any payload it received was one Slack would refuse."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        assert not self.invalid, f"Slack would have refused: {self.invalid}"

    # -- reading what members see ------------------------------------------------------

    def called(self, method: str) -> list[dict[str, Any]]:
        """Arguments of every call of ``method``, in order."""
        return [args for name, args in self.calls if name == method]

    def top(self, channel: str) -> list[Posted]:
        """Top-level messages of a channel, oldest first."""
        return [m for m in self._in(channel) if m.thread_ts is None]

    def cards(self, channel: str) -> list[Posted]:
        """Top-level messages with blocks: the interaction cards."""
        return [m for m in self.top(channel) if m.blocks]

    def card(self, channel: str, iid: str) -> Posted:
        """The card of interaction ``iid`` in a channel (as edited since)."""
        found = [m for m in self.cards(channel) if _header(m).startswith(f"{iid} ")]
        assert len(found) == 1, f"{len(found)} cards of {iid} in {channel}"
        return found[0]

    def thread(self, channel: str, ts: str) -> list[str]:
        """What a thread's replies show, oldest first."""
        return [m.shown for m in self._in(channel) if m.thread_ts == ts]

    def everything(self, channel: str) -> str:
        """All text a channel ever showed (messages, card blocks, ephemerals)."""
        parts = [m.text + json.dumps(m.blocks) for m in self._in(channel)]
        parts += [e["text"] for e in self.ephemeral if e["channel"] == channel]
        return "\n".join(parts)

    def _in(self, channel: str) -> list[Posted]:
        return sorted(
            (m for (c, _), m in self.messages.items() if c == channel), key=lambda m: float(m.ts)
        )

    def user_message(self, user: str, channel: str, text: str, thread_ts: str | None) -> str:
        """A member writes in a channel (Slack then sends the event); its ts."""
        ts = f"1700000000.{next(self._ts):06d}"
        self.messages[(channel, ts)] = Posted(channel, ts, text, [], thread_ts, user=user)
        return ts

    # -- the Web API -------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        for hook in self.on_call:
            hook(method, args)
        self.calls.append((method, args))
        self.called_at.append((method, asyncio.get_running_loop().time()))
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        wrong = problems(method, args)
        if wrong:
            self.invalid.append((method, wrong))
            return web.json_response({"ok": False, "error": wrong[0].split(":", 1)[0]})
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body = {"ok": False, "error": fault.error or f"http_{fault.status}"}
                return web.json_response(body, status=fault.status, headers=headers)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        body = answer(args) if answer else {"ok": True}
        return web.json_response(body)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "user_id": BOT_USER,
            "bot_id": "BBACKLINE",
            "team_id": "T0TEAM",
            "user": "backline",
            "team": "Test",
            "url": "https://test.slack.com/",
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = sorted(str(args["users"]).split(","))
        channel = "D" + users[0] if len(users) == 1 else "G" + "-".join(users)
        return {"ok": True, "channel": {"id": channel}}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        channel = str(args["channel"])
        self.messages[(channel, ts)] = Posted(
            channel,
            ts,
            str(args.get("text", "")),
            list(args.get("blocks") or []),
            args.get("thread_ts"),
            attachments=list(args.get("attachments") or []),
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args["channel"]), str(args["ts"]))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        posted = self.messages[key]
        posted.text, posted.blocks = str(args.get("text", "")), list(args.get("blocks") or [])
        posted.edits += 1
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self.ephemeral.append(args)
        return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        self.homes[str(args["user_id"])] = args["view"]
        return {"ok": True, "view": {"id": "V0HOME"}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0MODAL", **args["view"]}}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        for hook in self.on_call:
            hook("response_url", {"name": request.match_info["name"], **body})
        wrong = problems("response_url", body)
        if wrong:
            self.invalid.append(("response_url", wrong))
            return web.Response(status=400, text=wrong[0])
        self.responses.append({"name": request.match_info["name"], **body})
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "stub"},
                "connection_info": {"app_id": "A0"},
            }
        )

        async def push() -> None:
            while True:
                await ws.send_json(await self.socket_out.get())

        pusher = asyncio.create_task(push())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_in.append(json.loads(msg.data))
                    for hook in self.on_socket_in:
                        hook(self.socket_in[-1])
        finally:
            pusher.cancel()
        return ws


async def _arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)  # slack_sdk sends some methods' params here
    if request.content_type == "application/json":
        args.update(await request.json())
    else:
        args.update(await request.post())
    for name in ("blocks", "attachments", "view"):
        if isinstance(args.get(name), str):
            args[name] = json.loads(args[name])
    return args


def _header(message: Posted) -> str:
    for block in message.blocks:
        if block.get("type") == "header":
            return str(block["text"]["text"])
    return ""


def buttons(message: Posted) -> list[str]:
    """Labels of the buttons a card offers now."""
    return [
        e["text"]["text"]
        for b in message.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("type") == "button"
    ]
