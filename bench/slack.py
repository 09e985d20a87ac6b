"""Slack ack and delivery latency: backline's adapter vs a bare bolt app, and vs a full store.

Three apps, all bolt ``AsyncApp``s on aiohttp on 127.0.0.1, signed by one secret, measured in
one run and interleaved request by request:

- *bare bolt*, the baseline, runs in its own process. Its listener does the same durable
  work backline does before it acks, and no more: one committed SQLite INSERT (WAL,
  ``synchronous=NORMAL``, as backline's store), then the ack.
- *backline* on an empty store: it commits the command before it acks, and replies through
  ``response_url`` (or in the card's thread) after the ack, on the same event loop.
- *backline, full store*: the adapter's tables hold 50,000 cards of closed interactions
  and 1,000 of live ones (seeded directly: a store no pruning has cleaned, so the index,
  not the pruning, must keep lookups flat).

Each round, every app gets a `/bl status` slash command, each app first in turn; both
backlines also get `!status` in the thread of alice's live chat's card (its card is looked
up before the ack). *ack* is
until the HTTP answer is read; *delivery* until the reply reaches the fake Web API.
Targets: backline p99 ack < 50 ms and at most 1.5 times the bare bolt's; the full store's
p99 ack and p99 delivery at most 1.2 times the empty store's. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.slack import PLUGIN  # noqa: E402
from adapters.slack.adapter import SlackAdapter  # noqa: E402
from adapters.slack.config import SlackConfig  # noqa: E402
from bot.app import build_adapters  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.http import build_http_app  # noqa: E402
from bot.port import Address, Port  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
CLOSED, LIVE = 50_000, 1_000


# -- the fake Web API: answers, and notes when each reply arrived ------------------------


@dataclass
class Arrivals:
    """When the last reply of each kind reached the fake Slack (``time.perf_counter``)."""

    at: dict[str, float] = field(default_factory=dict)
    ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def web_api(self, request: web.Request) -> web.Response:
        """auth.test, conversations.open, posts (each a new ts), response_url replies."""
        method = request.match_info.get("method")
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UB", "bot_id": "BB", "team_id": "T0"})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D0ALICE"}})
        if method is None:  # a response_url
            self.at[request.match_info["name"]] = time.perf_counter()
        elif method == "chat.postMessage" and "thread_ts" in await _arguments(request):
            self.at["thread"] = time.perf_counter()
        return web.json_response({"ok": True, "ts": f"1.{next(self.ts):06d}", "channel": "D0"})


async def _arguments(request: web.Request) -> dict[str, object]:
    if request.content_type == "application/json":
        return dict(await request.json())
    return dict(await request.post())


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


# -- the baseline, in its own process --------------------------------------------------


def bare_bolt(base_url: str, database: Path) -> web.Application:
    """A bolt app whose listener commits one INSERT, then acks."""
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, body TEXT)")
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=base_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.command("/bl")
    async def commit_then_ack(ack, body):  # type: ignore[no-untyped-def]
        with db:
            db.execute("INSERT INTO commands (body) VALUES (?)", (json.dumps(body),))
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


async def run_baseline(base_url: str) -> None:
    """Serve the baseline; print its port; stop when stdin closes."""
    with tempfile.TemporaryDirectory() as tmp:
        runner, port = await serve(bare_bolt(base_url, Path(tmp) / "bare.db"))
        print(f"PORT {port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()


def start_baseline(base_url: str) -> tuple[subprocess.Popen[str], int]:
    """The baseline process and its port."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--baseline", base_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"the baseline did not start: {line!r}")
    return proc, int(line.split()[1])


# -- backline ----------------------------------------------------------------------------


@dataclass
class Backline:
    """backline with the Slack adapter, and alice's live chat with its card."""

    core: Core
    adapter: SlackAdapter
    runner: web.AppRunner
    url: str
    channel: str = ""
    thread: str = ""

    @classmethod
    async def open(cls, database: Path, base_url: str, *, full: bool) -> Backline:
        core = Core.open(ROOT / "rules", database, SystemClock())
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
        runner, port = await serve(http)
        await adapter.start()
        app = cls(core, adapter, runner, f"http://127.0.0.1:{port}/slack/events")
        await app.live_chat()
        return app

    async def live_chat(self) -> None:
        """Ann's chat, accepted by alice: its card in alice's desk."""
        slack = Port(self.core, "slack")
        await slack.command("U0ALICE", "ready")
        iid = await Port(self.core, "api").customer_arrived(
            Address("api", "ann"), "chat", "@alice", "hello", display="Ann"
        )
        await slack.command("U0ALICE", f"accept {iid}")
        await self.adapter.settle()
        card = self.adapter.threads.card("dm:alice", iid)
        assert card is not None, "alice's card was posted"
        self.channel, self.thread = card.channel, card.ts

    async def close(self) -> None:
        await self.adapter.stop()
        await self.runner.cleanup()
        self.core.store.close()


def seed(core: Core) -> None:
    """50,000 cards of closed interactions and 1,000 of live ones, in the adapter's table."""
    rows = [(f"dm:agent{n % 200}", f"c{n}", f"DC{n % 200}", f"1.{n:09d}") for n in range(CLOSED)]
    rows += [(f"dm:agent{n % 200}", f"l{n}", f"DC{n % 200}", f"2.{n:09d}") for n in range(LIVE)]
    with core.store.transaction():
        core.store.conn.executemany(
            "INSERT INTO slack_cards (lane, interaction_id, channel, ts) VALUES (?, ?, ?, ?)", rows
        )


# -- the client: Slack on another machine -------------------------------------------------


def signed(body: str, content_type: str) -> tuple[bytes, dict[str, str]]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }
    return body.encode(), headers


def slash(i: int, name: str, api_port: int) -> tuple[bytes, dict[str, str], str]:
    key = f"{i}-{name.replace(' ', '_')}"
    form = {
        "command": "/bl",
        "text": "status",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "team_id": "T0",
        "channel_id": "D0ALICE",
        "response_url": f"http://127.0.0.1:{api_port}/response/{key}",
        "trigger_id": f"{i}.{key}.bench",
    }
    return (*signed(urlencode(form), "application/x-www-form-urlencoded"), key)


def in_thread(i: int, app: Backline) -> tuple[bytes, dict[str, str]]:
    event = {
        "type": "message",
        "user": "U0ALICE",
        "text": "!status",
        "channel": app.channel,
        "channel_type": "im",
        "ts": f"9.{i:06d}",
        "thread_ts": app.thread,
    }
    body = {"type": "event_callback", "team_id": "T0", "event": event, "event_id": f"Ev{i}"}
    return signed(json.dumps(body), "application/json")


@dataclass
class Times:
    """Milliseconds per app: acks and deliveries."""

    ack: dict[str, list[float]] = field(default_factory=dict)
    delivery: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, name: str, ms: float) -> None:
        getattr(self, kind).setdefault(name, []).append(ms)


async def client(
    urls: dict[str, str],
    apps: dict[str, Backline],
    arrivals: Arrivals,
    api_port: int,
    args: argparse.Namespace,
    settle: Callable[[], None],
) -> Times:
    """Each round: a slash command to every app, `!status` in a thread to each backline."""
    times = Times()
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes, headers: dict[str, str], url: str) -> float:
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            return start

        names = list(urls)
        for i in range(args.warmup + args.requests):
            measured = i >= args.warmup
            for name in names[i % 3 :] + names[: i % 3]:  # each app first in turn
                url = urls[name]
                body, headers, key = slash(i, name, api_port)
                start = await post(body, headers, url)
                acked = time.perf_counter()
                await asyncio.to_thread(settle)
                if measured:
                    times.add("ack", f"{name} slash", (acked - start) * 1000)
                    if key in arrivals.at:
                        times.add("delivery", f"{name} slash", (arrivals.at[key] - start) * 1000)
            for name, app in sorted(apps.items(), reverse=i % 2 == 1):
                body, headers = in_thread(i, app)
                start = await post(body, headers, urls[name])
                acked = time.perf_counter()
                await asyncio.to_thread(settle)
                if measured:
                    times.add("ack", f"{name} thread", (acked - start) * 1000)
                    delivered = arrivals.at.pop("thread", start)
                    times.add("delivery", f"{name} thread", (delivered - start) * 1000)
    return times


async def measure(args: argparse.Namespace) -> Times:
    arrivals = Arrivals()
    api = web.Application()
    api.router.add_post("/api/{method}", arrivals.web_api)
    api.router.add_post("/response/{name}", arrivals.web_api)
    api_runner, api_port = await serve(api)
    base = f"http://127.0.0.1:{api_port}/api/"
    baseline, bare_port = start_baseline(base)
    tmp = tempfile.TemporaryDirectory()
    apps = {
        "backline": await Backline.open(Path(tmp.name) / "empty.db", base, full=False),
        "full store": await Backline.open(Path(tmp.name) / "full.db", base, full=True),
    }
    urls = {
        "bare bolt": f"http://127.0.0.1:{bare_port}/slack/events",
        **{name: app.url for name, app in apps.items()},
    }
    loop = asyncio.get_running_loop()

    async def settle_all() -> None:
        for app in apps.values():
            await app.adapter.settle()

    def settle() -> None:
        asyncio.run_coroutine_threadsafe(settle_all(), loop).result()

    try:
        # The client runs in its own thread and loop, like Slack on another machine: it sees
        # an ack when its bytes arrive, not when backline's loop is next free.
        return await loop.run_in_executor(
            None, lambda: asyncio.run(client(urls, apps, arrivals, api_port, args, settle))
        )
    finally:
        for app in apps.values():
            await app.close()
        assert baseline.stdin is not None
        baseline.stdin.close()
        baseline.wait(timeout=10)
        await api_runner.cleanup()
        tmp.cleanup()


# -- the report ----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def verdicts(times: Times, args: argparse.Namespace) -> list[tuple[str, float, str, bool]]:
    """(what, value, target, met) for each target."""
    ack, delivery = times.ack, times.delivery

    def p99(values: dict[str, list[float]], name: str) -> float:
        return pct(values[name], 0.99)

    ours = p99(ack, "backline slash")
    ratio = ours / p99(ack, "bare bolt slash")
    full_ack = max(
        p99(ack, f"full store {k}") / p99(ack, f"backline {k}") for k in ("slash", "thread")
    )
    full_delivery = max(
        p99(delivery, f"full store {k}") / p99(delivery, f"backline {k}")
        for k in ("slash", "thread")
    )
    return [
        ("backline p99 ack (ms)", ours, f"< {args.p99_target_ms:g}", ours < args.p99_target_ms),
        (
            "p99 ack backline / bare bolt",
            ratio,
            f"<= {args.ratio_target:g}",
            ratio <= args.ratio_target,
        ),
        (
            "p99 ack full / empty store",
            full_ack,
            f"<= {args.store_ratio_target:g}",
            full_ack <= args.store_ratio_target,
        ),
        (
            "p99 delivery full / empty store",
            full_delivery,
            f"<= {args.store_ratio_target:g}",
            full_delivery <= args.store_ratio_target,
        ),
    ]


def report(times: Times, args: argparse.Namespace) -> bool:
    """Print the table and the verdicts; whether every target was met."""
    print(f"Slack latency, {args.requests} rounds, interleaved, each after the last settled (ms)")
    print(f"{'what':<26} {'p50':>8} {'p99':>8} {'mean':>8}")
    for kind in ("ack", "delivery"):
        for name, values in getattr(times, kind).items():
            p50, p99, mean = pct(values, 0.5), pct(values, 0.99), sum(values) / len(values)
            print(f"{kind + ' ' + name:<26} {p50:8.2f} {p99:8.2f} {mean:8.2f}")
    ok = True
    for what, value, target, met in verdicts(times, args):
        print(f"{what}: {value:.2f} (target {target}) {'ok' if met else 'MISSED'}")
        ok = ok and met
    print(f"verdict: {'PASS' if ok else 'FAIL'}")
    return ok


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--p99-target-ms", type=float, default=50.0)
    parser.add_argument("--ratio-target", type=float, default=1.5)
    parser.add_argument("--store-ratio-target", type=float, default=1.2)
    parser.add_argument("--baseline", metavar="API_URL", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.WARNING)  # Ann is on no adapter: her messages are only logged
    # The client thread and backline's loop share this process's GIL: hand it over often, so
    # an ack is not read up to two default switch intervals (5 ms each) late.
    sys.setswitchinterval(0.0005)
    if args.baseline:
        asyncio.run(run_baseline(args.baseline))
        return 0
    return 0 if report(asyncio.run(measure(args)), args) else 1


if __name__ == "__main__":
    sys.exit(main())
