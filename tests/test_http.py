"""OPS-1: the HTTP server's health and metrics, in process and from a real `backline run`."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FakeClock
from bot.config import load_config
from bot.core import Core
from bot.events import Command
from bot.http import build_http_app
from bot.loop_watch import PauseWatch
from tests.support.console import REPO, RULES


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    opened = Core.open(RULES, tmp_path / "db", FakeClock())
    yield opened
    opened.store.close()


@pytest.fixture
async def client(core: Core) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_http_app(core))) as http:
        yield http


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample, or None when it is not exposed."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


async def scrape(client: TestClient[object, object]) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    return await response.text()


async def test_healthz_reports_ok_and_the_directory_size_ops_1(
    client: TestClient[object, object],
) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["status"] == "ok"
    assert body["members"] == 8


async def test_metrics_follow_presence_and_count_commands_ops_1(
    core: Core, client: TestClient[object, object]
) -> None:
    """OPS-1 / GRP-2: the support gauge moves with a `ready`; the command is counted."""
    before = await scrape(client)
    assert 'backline_group_available{group="group:support"} 0.0' in before
    assert sample(before, "backline_commands_total", command="ready", outcome="ok") is None

    turn = await core.handle(Command("console", "alice", "ready"))
    assert turn.reply == "You are ready."

    after = await scrape(client)
    assert sample(after, "backline_group_available", group="group:support") == 1.0
    assert sample(after, "backline_group_available", group="group:billing") == 0.0
    assert 'backline_commands_total{command="ready",outcome="ok"} 1.0' in after

    await core.handle(Command("console", "bob", "ready"))
    await core.handle(Command("console", "alice", "notready nap"))  # not an allowed reason
    third = await scrape(client)
    assert sample(third, "backline_group_available", group="group:support") == 2.0
    assert sample(third, "backline_commands_total", command="ready", outcome="ok") == 2.0
    assert sample(third, "backline_commands_total", command="notready", outcome="refused") == 1.0
    assert sample(third, "backline_command_seconds_count") == 3.0


# --- the real server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def backline_exe() -> str:
    return str(Path(sys.executable).parent / "backline")


def get_json(url: str) -> dict[str, object] | None:
    """GET ``url`` as JSON, or None while nothing listens there yet."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            assert response.status == 200
            body: dict[str, object] = json.loads(response.read())
            return body
    except (ConnectionError, urllib.error.URLError):
        return None


TOKEN = "run-token-7f3a"


def call(url: str, body: dict[str, str] | None = None, token: str | None = None) -> int:
    """The status of a GET (or a JSON POST of ``body``) to ``url``."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def check_api_token_and_metrics(base: str) -> None:
    chat = {"kind": "chat", "customer": "Ann", "target": "group:support"}
    assert call(f"{base}/api/interactions", chat) == 401
    assert call(f"{base}/api/interactions", chat, token="wrong") == 401
    assert call(f"{base}/api/interactions", chat, token=TOKEN) == 201
    assert call(f"{base}/api/interactions/i1") == 401
    assert call(f"{base}/api/interactions/i1", token=TOKEN) == 200
    time.sleep(0.05)  # a few probe ticks
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        text = response.read().decode()
    counted = "backline_requests_total"
    assert sample(text, counted, route="/api/interactions", code="401") == 2.0
    assert sample(text, counted, route="/api/interactions", code="201") == 1.0
    assert sample(text, counted, route="/api/interactions/{id}", code="200") == 1.0
    assert (sample(text, "backline_event_loop_lag_seconds_count") or 0) > 0


def test_backline_run_serves_health_and_stops_cleanly_on_sigterm_ops_1(tmp_path: Path) -> None:
    """OPS-1: `backline run` from BACKLINE_* settings serves /healthz; SIGTERM exits 0.

    Its API wants the token from BACKLINE_HTTP_API_TOKEN; /metrics counts requests and the
    loop-lag probe runs.
    """
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    env |= {
        "BACKLINE_HTTP_PORT": str(port),
        "BACKLINE_DATA_DIR": str(data),
        "BACKLINE_RULES_DIR": str(REPO / "rules"),
        "BACKLINE_LOG_LEVEL": "warning",
        "BACKLINE_HTTP_API_TOKEN": TOKEN,
    }
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [backline_exe(), "run"],
            cwd=tmp_path,  # no backline.toml here: the environment is the whole config
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 10
            health = None
            while health is None and proc.poll() is None and time.monotonic() < deadline:
                health = get_json(f"http://127.0.0.1:{port}/healthz")
                if health is None:
                    time.sleep(0.05)
            assert health is not None, f"not up within 10 s:\n{log.read_text()}"
            assert health["status"] == "ok"
            assert health["members"] == 8
            assert (data / "backline.db").exists()
            check_api_token_and_metrics(f"http://127.0.0.1:{port}")

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert f"listening on http://127.0.0.1:{port}" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert get_json(f"http://127.0.0.1:{port}/healthz") is None  # the port is released


# --- health of each adapter (issue 12) --------------------------------------------------------


class Adapter:
    """A stand-in adapter; ``state`` None means it has no ``health()``."""

    reaches_everyone = False

    def __init__(self, name: str, state: str | None = None, *, broken: bool = False) -> None:
        self.name = name
        if state is not None or broken:
            self.health = lambda: self._health(state, broken)

    @staticmethod
    def _health(state: str | None, broken: bool) -> str:
        if broken:
            raise RuntimeError("health check crashed")
        assert state is not None
        return state

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, batch: object) -> None: ...


async def health(client: TestClient[object, object]) -> tuple[int, dict[str, object]]:
    response = await client.get("/healthz")
    body: dict[str, object] = await response.json()
    return response.status, body


async def test_healthz_is_ok_when_every_adapter_is_up_or_says_nothing(
    core: Core, client: TestClient[object, object]
) -> None:
    core.delivery.attach(Adapter("echo"))  # no health(): up
    core.delivery.attach(Adapter("xmpp", "up"))
    status, body = await health(client)
    assert status == 200
    assert body == {"status": "ok", "adapters": {"echo": "up", "xmpp": "up"}, "members": 8}


@pytest.mark.parametrize(
    ("adapter", "shown"),
    [
        (Adapter("xmpp", "reconnecting"), "reconnecting"),
        (Adapter("xmpp", "down"), "down"),
        (Adapter("xmpp", broken=True), "unknown"),
    ],
)
async def test_healthz_is_503_degraded_when_an_adapter_is_not_up(
    core: Core, client: TestClient[object, object], adapter: Adapter, shown: str
) -> None:
    core.delivery.attach(Adapter("echo"))
    core.delivery.attach(adapter)
    status, body = await health(client)
    assert status == 503
    assert body["status"] == "degraded"
    assert body["adapters"] == {"echo": "up", "xmpp": shown}


async def test_an_adapter_without_health_that_reported_itself_down_is_down(
    core: Core, client: TestClient[object, object]
) -> None:
    core.delivery.attach(Adapter("echo"))
    core.delivery.mark("echo", up=False)  # what port.adapter_status(up=False) records
    assert await health(client) == (
        503,
        {"status": "degraded", "adapters": {"echo": "down"}, "members": 8},
    )
    core.delivery.mark("echo", up=True)
    assert (await health(client))[0] == 200


# --- request counts, loop lag, GC pauses ---------------------------------------------------------


async def test_every_route_on_the_one_app_is_counted_by_template_and_code(core: Core) -> None:
    """API, health, metrics, unknown paths and an adapter's webhook (added as Slack adds its
    ``/slack/events``) are all counted in ``backline_requests_total{route,code}``."""
    app = build_http_app(core)

    async def webhook(request: web.Request) -> web.Response:
        return web.Response(status=401 if "bad" in request.query else 200)

    app.router.add_post("/slack/events", webhook)
    async with TestClient(TestServer(app)) as http:
        await http.get("/healthz")
        await http.get("/healthz")
        await http.post("/api/interactions", json={"kind": "chat"})
        await http.get("/api/interactions/i1")
        await http.get("/api/interactions/i2")
        await http.get("/no/such/path")
        await http.put("/healthz")
        await http.post("/slack/events")
        await http.post("/slack/events?bad=1")
        text = await scrape(http)

    def count(route: str, code: str) -> float | None:
        return sample(text, "backline_requests_total", route=route, code=code)

    assert count("/healthz", "200") == 2.0
    assert count("/api/interactions", "400") == 1.0
    assert count("/api/interactions/{id}", "404") == 2.0  # the template, not each id
    assert count("unmatched", "404") == 1.0
    assert count("unmatched", "405") == 1.0
    assert count("/slack/events", "200") == 1.0
    assert count("/slack/events", "401") == 1.0
    assert count("/metrics", "200") is None  # counted once this scrape is answered


async def test_loop_lag_and_gc_pauses_are_measured(
    core: Core, client: TestClient[object, object]
) -> None:
    callbacks = list(gc.callbacks)
    watch = PauseWatch(core.metrics)
    watch.start()
    try:
        await asyncio.sleep(0.03)
        time.sleep(0.06)  # the loop is blocked: the probe wakes up late
        gc.collect()
        await asyncio.sleep(0.03)
        text = await scrape(client)
    finally:
        await watch.stop()
    assert gc.callbacks == callbacks  # stopping removes the callback
    assert watch.worst_lag >= 0.05
    assert (sample(text, "backline_event_loop_lag_seconds_count") or 0) >= 3
    late = sample(text, "backline_event_loop_lag_seconds_bucket", le="0.025")
    total = sample(text, "backline_event_loop_lag_seconds_count")
    assert late is not None and total is not None and late < total  # one probe was > 25 ms
    assert (sample(text, "backline_gc_pause_seconds_count", generation="2") or 0) >= 1
    assert watch.worst_gc > 0


def test_the_api_token_is_a_setting_kept_out_of_reprs(tmp_path: Path) -> None:
    config = load_config(None, {"BACKLINE_HTTP_API_TOKEN": "t0ken-from-env"}, plugins={})
    assert config.http.api_token == "t0ken-from-env"
    assert "t0ken-from-env" not in repr(config)
    path = tmp_path / "backline.toml"
    path.write_text('[http]\napi_token = "t0ken-from-file"\n', encoding="utf-8")
    assert load_config(path, {}, plugins={}).http.api_token == "t0ken-from-file"
    assert load_config(None, {}, plugins={}).http.api_token == ""  # no token: no auth
