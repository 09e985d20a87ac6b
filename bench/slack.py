"""Slack ack and delivery latency: backline's adapter vs a bare bolt app, and vs a full store.

Five processes on 127.0.0.1, so that no app shares an interpreter with another or with the
client that times them:

- the *Web API stub*: the strict one of the Slack tests (``tests/adapters/slack/stub.py``,
  which validates every Block Kit payload and answers ``invalid_blocks`` as Slack does); it
  notes when each reply arrives;
- *bare bolt*, the baseline: a bolt ``AsyncApp`` on aiohttp whose listeners do the durable
  work backline does before it acks, and no more (one committed SQLite INSERT, WAL,
  ``synchronous=NORMAL``, as backline's store), ack, then reply through the same stub after
  the ack (to the ``response_url``, or in its card's thread);
- *backline* on an empty store: it commits the command before it acks, and replies through
  ``response_url`` (or in the card's thread) after the ack;
- *backline, full store*: the adapter's tables also hold 50,000 cards of closed interactions
  and 1,000 of live ones (seeded directly: a store no pruning has cleaned, so the index, not
  the pruning, must keep lookups flat);
- the *client*, this process: Slack on another machine. It sends the same signed requests
  (Slack's v0 HMAC) to every app, one at a time, interleaved request by request with each
  app first in turn, so a noisy moment of a shared machine hits all of them; after each
  request it waits until that app has settled (its replies are out).

Each step, every app gets a ``/bl status`` slash command, then ``!status`` in the thread of
alice's card (backline looks its card up before the ack). *ack* is until the HTTP answer
is read; *delivery* until the reply reaches the stub (one monotonic clock for all processes).
Each app also reports the CPU time it spends per request (its reply and settling included),
a figure the machine's load hardly moves. Warm-up steps are not counted. A round is one
such comparison with fresh processes; with ``--rounds N`` the bench runs N rounds back to
back and also checks that the p99 ack ratio backline / bare bolt agrees across rounds: all
within ± ``--spread-target`` (half their range).
Targets, in every round and over the whole mix (both paths, so twice the samples of either):
backline p99 ack < 50 ms and below 1.5 times the bare bolt's; the full store's p99 ack and
p99 delivery below 1.2 times the empty store's. Exit 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import hashlib
import hmac
import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.slack import PLUGIN  # noqa: E402
from adapters.slack.adapter import SlackAdapter  # noqa: E402
from adapters.slack.config import SlackConfig  # noqa: E402
from bench.targets import TIMES, Target, verdict  # noqa: E402
from bot.app import build_adapters  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.http import build_http_app  # noqa: E402
from bot.port import Address, Port  # noqa: E402
from tests.adapters.slack.stub import SlackStub  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
ALICE = "U0ALICE"
CLOSED, LIVE = 50_000, 1_000
APPS = ("bare bolt", "backline", "full store")
PATHS = ("slash", "thread")
PLUS_MINUS = "\u00b1"


def now_ns() -> int:
    """One clock for every process of the bench: CLOCK_MONOTONIC, in nanoseconds."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on a free port of 127.0.0.1."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


async def until_stdin_closes(ready: str) -> None:
    """Tell the parent ``READY …``, then wait until it closes our stdin."""
    print(f"READY {ready}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def settled() -> web.Response:
    """``GET /bench/settle``'s answer, once an app's replies are out: its CPU seconds so far."""
    return web.Response(text=repr(time.process_time()))


# -- the Web API stub, in its own process ----------------------------------------------------


@dataclass
class Arrivals:
    """When each reply reached the stub: by response_url name, and by thread (in order)."""

    responses: dict[str, int] = field(default_factory=dict)
    threads: dict[str, list[int]] = field(default_factory=dict)

    def note(self, method: str, args: dict[str, Any]) -> None:
        """The stub's ``on_call`` hook."""
        if method == "response_url":
            self.responses[str(args["name"])] = now_ns()
        elif method == "chat.postMessage" and args.get("thread_ts"):
            self.threads.setdefault(str(args["thread_ts"]), []).append(now_ns())


async def run_stub() -> None:
    """The strict stub, plus ``GET /bench/arrivals``: the arrivals and what it refused."""
    stub, arrivals = SlackStub(), Arrivals()
    stub.on_call.append(arrivals.note)

    async def report(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "responses": arrivals.responses,
                "threads": arrivals.threads,
                "invalid": stub.invalid,
            }
        )

    app = web.Application()
    stub.routes(app)
    app.router.add_get("/bench/arrivals", report)
    runner, stub.port = await serve(app)
    await until_stdin_closes(str(stub.port))
    await runner.cleanup()


# -- the baseline, in its own process --------------------------------------------------------


class BareBolt:
    """A bolt app whose listeners commit one INSERT, ack, then reply after the ack."""

    def __init__(self, base_url: str, database: Path) -> None:
        self.db = sqlite3.connect(database, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, body TEXT)")
        self.session = aiohttp.ClientSession()  # one for every reply, as backline has
        self.client = AsyncWebClient(token=TOKEN, base_url=base_url, session=self.session)
        self.bolt = AsyncApp(
            client=self.client, signing_secret=SECRET, process_before_response=True
        )
        self.bolt.command("/bl")(self.on_slash)
        self.bolt.event("message")(self.on_message)
        self.replies: set[asyncio.Task[Any]] = set()
        self.channel = self.thread = ""

    async def post_card(self) -> None:
        """alice's card: its thread is where ``!status`` is written."""
        opened = await self.client.conversations_open(users=ALICE)
        self.channel = str(opened["channel"]["id"])
        posted = await self.client.chat_postMessage(channel=self.channel, text="i1 Chat from Ann")
        self.thread = str(posted["ts"])

    def commit(self, body: dict[str, Any]) -> None:
        with self.db:
            self.db.execute("INSERT INTO commands (body) VALUES (?)", (json.dumps(body),))

    def after_ack(self, reply: Any) -> None:
        task = asyncio.create_task(reply)
        self.replies.add(task)
        task.add_done_callback(self.replies.discard)

    async def on_slash(self, ack: Any, body: dict[str, Any]) -> None:
        self.commit(body)
        await ack()
        webhook = AsyncWebhookClient(str(body["response_url"]), session=self.session)
        self.after_ack(webhook.send_dict({"response_type": "ephemeral", "text": "You are ready."}))

    async def on_message(self, ack: Any, body: dict[str, Any]) -> None:
        self.commit(body)
        await ack()
        event = body["event"]
        self.after_ack(
            self.client.chat_postMessage(
                channel=event["channel"], thread_ts=event["thread_ts"], text="You are ready."
            )
        )

    async def handle(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await self.bolt.async_dispatch(await to_bolt_request(request))
        )

    async def settle(self, request: web.Request) -> web.Response:
        while self.replies:
            await asyncio.gather(*self.replies)
        return settled()


async def run_bare(base_url: str) -> None:
    """Serve the baseline until stdin closes."""
    with tempfile.TemporaryDirectory() as tmp:
        bare = BareBolt(base_url, Path(tmp) / "bare.db")
        await bare.post_card()
        app = web.Application()
        app.router.add_post("/slack/events", bare.handle)
        app.router.add_get("/bench/settle", bare.settle)
        runner, port = await serve(app)
        await until_stdin_closes(f"{port} {bare.channel} {bare.thread}")
        await runner.cleanup()
        await bare.session.close()
        bare.db.close()


# -- backline, in its own process ------------------------------------------------------------


async def run_backline(base_url: str, *, full: bool) -> None:
    """backline with the Slack adapter, alice's live chat with its card; until stdin closes."""
    with tempfile.TemporaryDirectory() as tmp:
        core = Core.open(ROOT / "rules", Path(tmp) / "backline.db", SystemClock())
        http = build_http_app(core)
        config = SlackConfig(
            enabled=True,
            bot_token=TOKEN,
            signing_secret=SECRET,
            api_base_url=base_url,
            pace_seconds=0,
        )
        (adapter,) = build_adapters(
            Config(adapters={"slack": config}), core, http, {"slack": PLUGIN}
        )
        assert isinstance(adapter, SlackAdapter)
        if full:
            seed(core)

        async def settle(request: web.Request) -> web.Response:
            await adapter.settle()
            return settled()

        http.router.add_get("/bench/settle", settle)
        runner, port = await serve(http)
        await adapter.start()
        channel, thread = await live_chat(core, adapter)
        await until_stdin_closes(f"{port} {channel} {thread}")
        await adapter.stop()
        await runner.cleanup()
        core.store.close()


async def live_chat(core: Core, adapter: SlackAdapter) -> tuple[str, str]:
    """Ann's chat, accepted by alice: the channel and ts of its card in alice's desk."""
    slack = Port(core, "slack")
    await slack.command(ALICE, "ready")
    iid = await Port(core, "api").customer_arrived(
        Address("api", "ann"), "chat", "@alice", "hello", display="Ann"
    )
    await slack.command(ALICE, f"accept {iid}")
    await adapter.settle()
    card = adapter.threads.card("dm:alice", iid)
    assert card is not None, "alice's card was posted"
    return card.channel, card.ts


def seed(core: Core) -> None:
    """50,000 cards of closed interactions and 1,000 of live ones, in the adapter's table."""
    rows = [(f"dm:agent{n % 200}", f"c{n}", f"DC{n % 200}", f"1.{n:09d}") for n in range(CLOSED)]
    rows += [(f"dm:agent{n % 200}", f"l{n}", f"DC{n % 200}", f"2.{n:09d}") for n in range(LIVE)]
    with core.store.transaction():
        core.store.conn.executemany(
            "INSERT INTO slack_cards (lane, interaction_id, channel, ts) VALUES (?, ?, ?, ?)", rows
        )


# -- the parent: starts the processes and is Slack's client ----------------------------------


@dataclass
class Served:
    """One app's process: where it listens, and the thread of alice's card there."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    channel: str = ""
    thread: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def spawn(name: str, *args: str) -> Served:
    """Start ``bench/slack.py --serve ARGS`` and read its ``READY PORT [CHANNEL THREAD]``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode().split()
    if line[:1] != ["READY"]:
        process.kill()
        await process.wait()
        raise SystemExit(f"{name} did not start (it printed {line!r})")
    port, *thread = line[1:]
    return Served(name, process, int(port), *thread)


async def finish(served: Served) -> None:
    """Close its stdin (it stops); kill it if it has not stopped within 10 s."""
    assert served.process.stdin is not None
    served.process.stdin.close()
    try:
        await asyncio.wait_for(served.process.wait(), 10)
    except TimeoutError:
        served.process.kill()
        await served.process.wait()


@contextlib.asynccontextmanager
async def processes() -> AsyncIterator[tuple[Served, list[Served]]]:
    """The stub, then the three apps on it; all stopped on the way out."""
    started: list[Served] = []
    try:
        stub = await spawn("the Web API stub", "stub")
        started.append(stub)
        base = f"{stub.url}/api/"
        apps = await asyncio.gather(
            spawn("bare bolt", "bare", base),
            spawn("backline", "backline", base),
            spawn("full store", "full", base),
            return_exceptions=True,
        )
        started += [a for a in apps if isinstance(a, Served)]
        for app in apps:
            if isinstance(app, BaseException):
                raise app
        yield stub, started[1:]
    finally:
        await asyncio.gather(*(finish(s) for s in started))


def signed(body: str, content_type: str) -> tuple[bytes, dict[str, str]]:
    """Slack's v0 signature over ``v0:TIMESTAMP:BODY``, with the body it signs."""
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }
    return body.encode(), headers


def slash(key: str, stub: Served) -> tuple[bytes, dict[str, str]]:
    """``/bl status`` from alice, whose reply goes to the stub's ``response_url`` ``key``."""
    form = {
        "command": "/bl",
        "text": "status",
        "user_id": ALICE,
        "user_name": "alice",
        "team_id": "T0",
        "channel_id": "DU0ALICE",
        "response_url": f"{stub.url}/response/{key}",
        "trigger_id": f"{key}.bench",
    }
    return signed(urlencode(form), "application/x-www-form-urlencoded")


def in_thread(i: int, app: Served) -> tuple[bytes, dict[str, str]]:
    """alice writes ``!status`` in the thread of her card."""
    event = {
        "type": "message",
        "user": ALICE,
        "text": "!status",
        "channel": app.channel,
        "channel_type": "im",
        "ts": f"9.{i:06d}",
        "thread_ts": app.thread,
    }
    body = {"type": "event_callback", "team_id": "T0", "event": event, "event_id": f"Ev{i}"}
    return signed(json.dumps(body), "application/json")


@dataclass
class Round:
    """Milliseconds of one round, by ``"APP PATH"``: acks and deliveries."""

    ack: dict[str, list[float]] = field(default_factory=dict)
    delivery: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # app → CPU ms per request, all in

    def values(self, kind: str, name: str) -> list[float]:
        """``"APP PATH"``'s times, or ``"APP mix"``: both paths together."""
        app, path = name.rsplit(" ", 1)
        times: dict[str, list[float]] = getattr(self, kind)
        if path == "mix":
            return [t for p in PATHS for t in times[f"{app} {p}"]]
        return times[name]

    def p99(self, kind: str, name: str) -> float:
        return percentile(self.values(kind, name), 0.99)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(stub: Served, apps: list[Served], args: argparse.Namespace) -> Round:
    """Every step: a slash command to each app, then ``!status`` in its thread, each first
    in turn; each request once the one before it has settled."""
    sent: dict[tuple[str, str], list[tuple[bool, int, str]]] = {}  # (measured, start, key)
    acks: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}  # each app's CPU seconds after each of its requests
    async with aiohttp.ClientSession() as session:

        async def post(app: Served, body: bytes, headers: dict[str, str]) -> tuple[int, int, float]:
            """Start and ack (ns) of one request, and the app's CPU seconds once settled."""
            start = now_ns()
            async with session.post(f"{app.url}/slack/events", data=body, headers=headers) as r:
                await r.read()
                acked = now_ns()
                assert r.status == 200, f"{app.name} answered {r.status}"
            async with session.get(f"{app.url}/bench/settle") as settled:
                cpu = float(await settled.text())
            return start, acked, cpu

        for i in range(args.warmup + args.requests):
            measured = i >= args.warmup
            turn = apps[i % len(apps) :] + apps[: i % len(apps)]
            for path in PATHS:
                for app in turn:
                    key = f"{i}-{app.name.replace(' ', '_')}" if path == "slash" else app.thread
                    body = slash(key, stub) if path == "slash" else in_thread(i, app)
                    start, acked, cpu = await post(app, *body)
                    sent.setdefault((app.name, path), []).append((measured, start, key))
                    cpus.setdefault(app.name, []).append(cpu)
                    if measured:
                        acks.setdefault(f"{app.name} {path}", []).append((acked - start) / 1e6)
        async with session.get(f"{stub.url}/bench/arrivals") as r:
            arrivals = await r.json()
    if arrivals["invalid"]:
        raise SystemExit(f"the Web API stub refused payloads Slack would: {arrivals['invalid']}")
    warm = len(PATHS) * args.warmup - 1  # each app's last warm-up request
    measured = len(PATHS) * args.requests
    cpu = {name: (c[-1] - c[warm]) * 1000 / measured for name, c in cpus.items()}
    return Round(acks, deliveries(sent, arrivals), cpu)


def deliveries(
    sent: dict[tuple[str, str], list[tuple[bool, int, str]]], arrivals: dict[str, Any]
) -> dict[str, list[float]]:
    """Each measured request's delivery time (ms): its reply's arrival at the stub.

    A thread's reply is the first post in it after the request started (requests are sent
    one at a time, each once the one before has settled).
    """
    out: dict[str, list[float]] = {}
    for (name, path), requests in sent.items():
        if path == "slash":
            arrived = [arrivals["responses"].get(key) for _, _, key in requests]
        else:
            posts = sorted(arrivals["threads"].get(requests[0][2], []))
            arrived = [_first_after(posts, start) for _, start, _ in requests]
        if None in arrived:
            missing = arrived.index(None)
            raise SystemExit(f"{name}: no reply to {path} request {missing} reached the stub")
        out[f"{name} {path}"] = [
            (at - start) / 1e6
            for (measured, start, _), at in zip(requests, arrived, strict=True)
            if measured
        ]
    return out


def _first_after(times: list[int], start: int) -> int | None:
    at = bisect.bisect_left(times, start)
    return times[at] if at < len(times) else None


async def measure(args: argparse.Namespace) -> Round:
    """One round, with fresh processes."""
    async with processes() as (stub, apps):
        return await drive(stub, apps, args)


# -- the report ------------------------------------------------------------------------------


def table(n: int, figures: Round) -> None:
    """p50 / p99 / mean of every app: each path, and the whole mix (what the targets use)."""
    print(f"round {n}: ms, {len(figures.ack['backline slash'])} requests per app and path")
    print(f"  {'what':<26} {'p50':>8} {'p99':>8} {'mean':>8}")
    for kind in ("ack", "delivery"):
        for name in (f"{app} {path}" for path in (*PATHS, "mix") for app in APPS):
            v = figures.values(kind, name)
            p50, p99, mean = percentile(v, 0.5), percentile(v, 0.99), sum(v) / len(v)
            print(f"  {kind + ' ' + name:<26} {p50:8.2f} {p99:8.2f} {mean:8.2f}")
    print(
        "  CPU per request, its reply and settling included (ms): "
        + ", ".join(f"{app} {figures.cpu[app]:.2f}" for app in APPS)
        + f"; backline / bare bolt {figures.cpu['backline'] / figures.cpu['bare bolt']:.2f}"
    )


def bare_ratio(figures: Round) -> float:
    """backline's p99 ack over the bare bolt's, over the whole mix."""
    return figures.p99("ack", "backline mix") / figures.p99("ack", "bare bolt mix")


def targets(n: int, figures: Round, args: argparse.Namespace) -> list[Target]:
    """One round's targets, each over the whole mix (both paths: twice the samples)."""

    def full_over_empty(kind: str) -> float:
        return figures.p99(kind, "full store mix") / figures.p99(kind, "backline mix")

    ours = figures.p99("ack", "backline mix")
    ratio = bare_ratio(figures)
    store = args.store_ratio_target
    return [
        Target(f"round {n}: backline p99 ack", ours, args.p99_target_ms, "ms"),
        Target(f"round {n}: p99 ack backline / bare bolt", ratio, args.ratio_target, TIMES),
        Target(f"round {n}: p99 ack full / empty store", full_over_empty("ack"), store, TIMES),
        Target(
            f"round {n}: p99 delivery full / empty store", full_over_empty("delivery"), store, TIMES
        ),
    ]


def spread(rounds: list[Round], args: argparse.Namespace) -> list[Target]:
    """How well the rounds' backline / bare bolt ratios agree: ± half their range."""
    if len(rounds) < 2:
        return []
    ratios = [bare_ratio(r) for r in rounds]
    middle, half = (max(ratios) + min(ratios)) / 2, (max(ratios) - min(ratios)) / 2
    print(
        "p99 ack backline / bare bolt by round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" = {middle:.2f} \u00b1 {half:.2f} (range {max(ratios) - min(ratios):.2f})"
    )
    return [Target(f"ratio spread across rounds ({PLUS_MINUS})", half, args.spread_target, TIMES)]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000, help="measured steps per round")
    parser.add_argument("--warmup", type=int, default=100, help="steps not counted, per round")
    parser.add_argument("--rounds", type=int, default=3, help="comparisons, back to back")
    parser.add_argument("--p99-target-ms", type=float, default=50.0)
    parser.add_argument("--ratio-target", type=float, default=1.5)
    parser.add_argument("--store-ratio-target", type=float, default=1.2)
    parser.add_argument("--spread-target", type=float, default=0.2)
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def child(role: str, *args: str) -> None:
    """One of the bench's processes."""
    if role == "stub":
        await run_stub()
    elif role == "bare":
        await run_bare(*args)
    else:
        await run_backline(*args, full=role == "full")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.WARNING)  # Ann is on no adapter: her messages are only logged
    if args.serve:
        asyncio.run(child(*args.serve))
        return 0
    print(
        f"Slack latency: {args.rounds} rounds of {args.requests} steps"
        f" (+{args.warmup} warm-up), interleaved, each request after the last settled"
    )
    rounds, checked = [], []
    for n in range(1, args.rounds + 1):
        figures = asyncio.run(measure(args))
        table(n, figures)
        rounds.append(figures)
        checked += targets(n, figures, args)
    return verdict(checked + spread(rounds, args))


if __name__ == "__main__":
    sys.exit(main())
