"""Slash-command ack latency: backline's Slack adapter vs a bare bolt app that only acks.

Both are bolt ``AsyncApp``s on aiohttp, on 127.0.0.1, signed by the same secret, measured in
the same run and interleaved request by request. backline commits the command before it acks
(so a crash after the ack cannot lose it) and sends the reply through ``response_url`` after
the ack, on the same event loop, so all of that work is part of what the measurement sees.
Targets: p99 < 50 ms, p99 ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
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

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
RATIO_TARGET, P99_TARGET_MS = 1.5, 50.0


async def web_api(request: web.Request) -> web.Response:
    """Just enough of Slack for both apps: auth.test, response_url, the odd post."""
    method = request.match_info.get("method")
    if method == "auth.test":
        return web.json_response({"ok": True, "user_id": "UB", "bot_id": "BB", "team_id": "T0"})
    if method == "conversations.open":
        return web.json_response({"ok": True, "channel": {"id": "D0"}})
    return web.json_response({"ok": True, "ts": "1.0", "channel": "D0"})


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


def bare_bolt(base_url: str) -> web.Application:
    """The baseline: a bolt app whose only listener acks."""
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=base_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.command("/bl")
    async def ack_only(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


def signed(form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = urlencode(form)
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }
    return body.encode(), headers


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    api_app = web.Application()
    api_app.router.add_post("/api/{method}", web_api)
    api_app.router.add_post("/response/{n}", web_api)
    api_runner, api_port = await serve(api_app)
    base = f"http://127.0.0.1:{api_port}/api/"
    tmp = tempfile.TemporaryDirectory()
    core = Core.open(ROOT / "rules", Path(tmp.name) / "bench.db", SystemClock())
    http = build_http_app(core)
    config = SlackConfig(
        enabled=True, bot_token=TOKEN, signing_secret=SECRET, api_base_url=base, pace_seconds=0
    )
    (adapter,) = build_adapters(Config(adapters={"slack": config}), core, http, {"slack": PLUGIN})
    assert isinstance(adapter, SlackAdapter)
    ours_runner, ours_port = await serve(http)
    await adapter.start()
    bare_runner, bare_port = await serve(bare_bolt(base))
    urls = {
        "backline": f"http://127.0.0.1:{ours_port}/slack/events",
        "bare bolt": f"http://127.0.0.1:{bare_port}/slack/events",
    }
    loop = asyncio.get_running_loop()

    def settle() -> None:
        asyncio.run_coroutine_threadsafe(adapter.settle(), loop).result()

    try:
        # The client runs in its own thread and loop, like Slack on another machine: it sees
        # the ack when its bytes arrive, not when backline's loop is next free.
        times = await loop.run_in_executor(
            None, lambda: asyncio.run(client(urls, api_port, args, settle))
        )
        await adapter.settle()
    finally:
        await adapter.stop()
        for runner in (bare_runner, ours_runner, api_runner):
            await runner.cleanup()
        core.store.close()
        tmp.cleanup()
    return times


async def client(
    urls: dict[str, str], api_port: int, args: argparse.Namespace, settle: Callable[[], None]
) -> dict[str, list[float]]:
    """Post signed `/bl` commands to each app in turn; time each until its ack is read."""
    times: dict[str, list[float]] = {name: [] for name in urls}
    texts = ("ready", "status", "notready break", "status")
    async with aiohttp.ClientSession() as session:
        for i in range(args.warmup + args.requests):
            for name, url in urls.items():
                form = {
                    "command": "/bl",
                    "text": texts[i % len(texts)],
                    "user_id": "U0ALICE",
                    "user_name": "alice",
                    "team_id": "T0",
                    "channel_id": "D0",
                    "response_url": f"http://127.0.0.1:{api_port}/response/{i}",
                    "trigger_id": f"{i}.{name}.bench",
                }
                body, headers = signed(form)
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                elapsed = (time.perf_counter() - start) * 1000
                if i >= args.warmup:
                    times[name].append(elapsed)
                if not args.back_to_back:
                    await asyncio.to_thread(settle)  # the next request meets a quiet server
    return times


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument(
        "--back-to-back",
        action="store_true",
        help="send each request as soon as the last was acked (work still running)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    times = asyncio.run(measure(args))
    mode = "back to back" if args.back_to_back else "each after the last command settled"
    print(f"slash-command ack latency, {args.requests} requests each, interleaved, {mode} (ms)")
    print(f"{'app':<10} {'p50':>8} {'p99':>8} {'mean':>8}")
    for name, values in times.items():
        print(
            f"{name:<10} {pct(values, 0.5):8.2f} {pct(values, 0.99):8.2f}"
            f" {statistics.fmean(values):8.2f}"
        )
    ours, bare = times["backline"], times["bare bolt"]
    r50 = pct(ours, 0.5) / pct(bare, 0.5)
    r99 = pct(ours, 0.99) / pct(bare, 0.99)
    ok = r50 <= RATIO_TARGET and r99 <= RATIO_TARGET and pct(ours, 0.99) < P99_TARGET_MS
    print(f"ratio backline/bare: p50 {r50:.2f}, p99 {r99:.2f} (target <= {RATIO_TARGET:g})")
    print(f"backline p99 {pct(ours, 0.99):.2f} ms (target < {P99_TARGET_MS:g} ms)")
    print(f"verdict: {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
