"""OPS-1: the HTTP server's health and metrics, in process and from a real `backline run`."""

from __future__ import annotations

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
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FakeClock
from bot.core import Core
from bot.events import Command
from bot.http import build_http_app
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


def test_backline_run_serves_health_and_stops_cleanly_on_sigterm_ops_1(tmp_path: Path) -> None:
    """OPS-1: `backline run` from BACKLINE_* settings serves /healthz; SIGTERM exits 0."""
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    env |= {
        "BACKLINE_HTTP_PORT": str(port),
        "BACKLINE_DATA_DIR": str(data),
        "BACKLINE_RULES_DIR": str(REPO / "rules"),
        "BACKLINE_LOG_LEVEL": "warning",
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

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert f"listening on http://127.0.0.1:{port}" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert get_json(f"http://127.0.0.1:{port}/healthz") is None  # the port is released
