"""A real Synapse for live tests and the bench, plus small matrix-nio test clients.

Follows shared/docs/LIVE-SERVERS.md: a signing key from ``--generate-config``, then our own
``homeserver.yaml`` (one loopback HTTP listener, SQLite, a registration shared secret,
``bcrypt_rounds: 4``, rate limits raised) listing the appservice registration that
``adapters.matrix.registration`` makes, pointed at a fixed free port where each test's
backline then listens. Users come from the shared-secret admin API. Synapse runs once per
test process (``shared_synapse``) and is stopped by PID at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    RoomMessageNotice,
    RoomMessageText,
    TypingNoticeEvent,
)

from adapters.console.adapter import ConsoleAdapter
from adapters.matrix import MIGRATIONS, MatrixAdapter
from adapters.matrix.config import MatrixConfig
from adapters.matrix.registration import registration
from bot.clock import Clock, SystemClock
from bot.core import Core
from bot.port import Port
from bot.state import snapshot
from tests.live.backline_process import BASE_TOML, BacklineProcess
from tests.support.console import RULES
from tests.support.prosody import env_in_ci, free_port

REPO = Path(__file__).resolve().parents[2]
SERVER = "localhost"
PASSWORD = "pw-test-only"
POLL = 0.01
HIGH = {"per_second": 10000, "burst_count": 10000}
RATE_LIMITS = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_joins_per_room",
    "rc_3pid_validation",
    "rc_presence",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
)
_users = itertools.count(1)
_DELIVERY = re.compile(r"^\[(?P<who>[^\]]+)\] ?(?P<text>.*)$")


def synapse_python() -> Path | None:
    """The Python of Synapse's own virtualenv, if it is there."""
    given = os.environ.get("BACKLINE_SYNAPSE_PYTHON")
    path = Path(given) if given else REPO / ".venv-synapse" / "bin" / "python"
    return path if path.exists() else None


SNIPPET = REPO / "manifests" / "matrix" / "homeserver-snippet.yaml"


def shipped_snippet(registration_file: Path) -> dict[str, Any]:
    """``manifests/matrix/homeserver-snippet.yaml`` with only the registration's path set."""
    snippet: dict[str, Any] = yaml.safe_load(SNIPPET.read_text(encoding="utf-8"))
    snippet["app_service_config_files"] = [str(registration_file)]
    return snippet


def homeserver_yaml(
    directory: Path, port: int, secret: str, registration_file: Path
) -> dict[str, Any]:
    """Our homeserver config: loopback only, SQLite, fast hashing, no rate limits."""
    config: dict[str, Any] = {
        "server_name": SERVER,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / f"{SERVER}.signing.key"),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "bcrypt_rounds": 4,
        "enable_registration": False,
        "presence": {"enabled": False},
        **shipped_snippet(registration_file),
        "rc_login": {"address": HIGH, "account": HIGH, "failed_attempts": HIGH},
        "rc_invites": {"per_room": HIGH, "per_user": HIGH, "per_issuer": HIGH},
        "rc_joins": {"local": HIGH, "remote": HIGH},
        "rc_admin_redaction": HIGH,
        "rc_key_requests": HIGH,
        "federation_rr_transactions_per_room_per_second": 10000,
    }
    for name in RATE_LIMITS:
        config[name] = HIGH
    return config


LOG_CONFIG = {
    "version": 1,
    "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain", "filename": "LOG"}},
    "root": {"level": "INFO", "handlers": ["file"]},
    "disable_existing_loggers": False,
}


@dataclass
class Synapse:
    """One Synapse on loopback with backline's appservice registered at ``as_port``."""

    directory: Path
    python: Path
    port: int = field(default_factory=free_port)
    as_port: int = field(default_factory=free_port)
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The client-server API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """Synapse's log file."""
        return self.directory / "homeserver.log"

    @property
    def config_file(self) -> Path:
        """Our homeserver.yaml."""
        return self.directory / "homeserver.yaml"

    def settings(self, **changes: Any) -> MatrixConfig:
        """``[matrix]`` settings that match the registration."""
        base: dict[str, Any] = {
            "enabled": True,
            "homeserver": self.url,
            "server_name": SERVER,
            "as_token": self.tokens["as_token"],
            "hs_token": self.tokens["hs_token"],
            "retry_max": 1.0,
        }
        return MatrixConfig(**{**base, **changes})

    def write_config(self) -> None:
        """Signing key (generated once), the registration, our homeserver.yaml."""
        self.directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                str(self.python),
                "-m",
                "synapse.app.homeserver",
                "--server-name",
                SERVER,
                "--config-path",
                str(self.directory / "generated.yaml"),
                "--generate-config",
                "--report-stats=no",
                "--data-directory",
                str(self.directory),
            ],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.directory,
        )
        found = registration(f"http://127.0.0.1:{self.as_port}", MatrixConfig())
        self.tokens = {"as_token": found["as_token"], "hs_token": found["hs_token"]}
        registration_file = self.directory / "registration.yaml"
        registration_file.write_text(yaml.safe_dump(found), encoding="utf-8")
        logs = json.loads(json.dumps(LOG_CONFIG).replace('"LOG"', json.dumps(str(self.log))))
        (self.directory / "log.yaml").write_text(yaml.safe_dump(logs), encoding="utf-8")
        config = homeserver_yaml(self.directory, self.port, self.secret, registration_file)
        self.config_file.write_text(yaml.safe_dump(config), encoding="utf-8")

    def start(self, timeout: float = 60.0) -> None:
        """Start (we keep the PID) and wait until the client API answers."""
        command = [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_file)]
        with (self.directory / "stderr.log").open("ab") as errors:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                cwd=self.directory,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited early; see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"synapse did not answer in {timeout}s; see {self.log}")
            time.sleep(0.05)

    def answers(self) -> bool:
        """Whether ``/_matrix/client/versions`` answers now."""
        try:
            with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                return True
        except (OSError, urllib.error.URLError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM by PID; SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def register(self, name: str, *, admin: bool = False) -> tuple[str, str]:
        """A user through the shared-secret admin API: ``(user id, access token)``."""
        nonce = self._admin("GET", "/_synapse/admin/v1/register")["nonce"]
        kind = b"admin" if admin else b"notadmin"
        mac = hmac.new(
            self.secret.encode(),
            b"\x00".join([nonce.encode(), name.encode(), PASSWORD.encode(), kind]),
            hashlib.sha1,
        ).hexdigest()
        made = self._admin(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": name, "password": PASSWORD, "admin": admin, "mac": mac},
        )
        return str(made["user_id"]), str(made["access_token"])

    def user(self, name: str) -> tuple[str, str]:
        """``register`` once per server: the same user for every test that asks."""
        if name not in self.users:
            self.users[name] = self.register(name)
        return self.users[name]

    def log_tail(self, lines: int = 80) -> str:
        """The end of Synapse's log."""
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def matrix_rules(destination: Path) -> Path:
    """The demo rules with bob and sam on Matrix too (alice, eli and sky are already)."""
    rules = destination / "rules"
    shutil.copytree(RULES, rules)
    directory = rules / "directory.yaml"
    text = directory.read_text(encoding="utf-8")
    for member in ("bob", "sam"):
        old = f"xmpp: {member}@localhost}}"
        assert old in text, f"the demo directory changed: no {old!r}"
        text = text.replace(old, f'xmpp: {member}@localhost, matrix: "@{member}:{SERVER}"}}')
    directory.write_text(text, encoding="utf-8")
    return rules


_shared: list[Synapse] = []


def shared_synapse(request: pytest.FixtureRequest) -> Synapse:
    """The test process's Synapse, started the first time a test asks (stopped at exit).

    Skipped only when Synapse's virtualenv is missing and ``CI`` is unset.
    """
    if _shared:
        return _shared[0]
    python = synapse_python()
    if python is None:
        if env_in_ci():
            pytest.fail("Synapse is not installed, and CI must run the live Matrix tests")
        pytest.skip("Synapse is not installed (.venv-synapse; see .ci/run)")
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    server = Synapse(factory.mktemp("synapse"), python)
    server.write_config()
    server.start()
    _shared.append(server)

    def stop() -> None:
        _shared.clear()
        server.stop()

    request.config.add_cleanup(stop)
    return server


def unique(name: str) -> str:
    """A fresh user name on the shared server."""
    return f"{name}{next(_users)}x{secrets.token_hex(2)}"


# --- clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message a client saw."""

    room_id: str
    room_name: str
    sender: str
    body: str
    msgtype: str
    formatted: str | None
    event_id: str
    source: dict[str, Any]


class Person:
    """A matrix-nio user who accepts every invite and records every message they see."""

    def __init__(
        self, synapse: Synapse, user_id: str, token: str, store: Path | None = None
    ) -> None:
        self.synapse = synapse
        self.user_id = user_id
        if store is None:
            self.client = AsyncClient(synapse.url, user_id)
            self.client.access_token = token
            self.client.user_id = user_id
            self.client.device_id = "TESTDEVICE"
        else:  # end-to-end encryption: a device of its own, keys kept in ``store``
            config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
            self.client = AsyncClient(synapse.url, user_id, store_path=str(store), config=config)
        self.seen: list[Received] = []
        self.invited: list[str] = []
        self._joining: set[str] = set()
        self._since_ms = 0
        self.typing: list[tuple[str, tuple[str, ...]]] = []  # (room, who types) as seen
        self._task: asyncio.Task[Any] | None = None

    @classmethod
    async def new(cls, synapse: Synapse, name: str) -> Person:
        """A user on ``synapse`` (registered now unless known), syncing."""
        user_id, token = synapse.user(name)
        person = cls(synapse, user_id, token)
        await person.start()
        return person

    @classmethod
    async def encrypted(cls, synapse: Synapse, name: str, store: Path) -> Person:
        """A user logged in on a new device with end-to-end encryption, syncing."""
        user_id, token = synapse.user(name)
        store.mkdir(parents=True, exist_ok=True)
        person = cls(synapse, user_id, token, store)
        answer = await person.client.login(PASSWORD, device_name="test")
        assert getattr(person.client, "olm", None) is not None, f"no olm: {answer}"
        await person.start()
        return person

    async def start(self) -> None:
        """Initial sync, then callbacks and the long poll."""
        first = await self.client.sync(timeout=0, full_state=True)
        assert hasattr(first, "next_batch"), f"initial sync failed: {first}"
        # a user shared between tests: what happened before this client started is not ours
        self._since_ms = int(time.time() * 1000) - 50
        self._joining.update(self.client.rooms, self.client.invited_rooms)
        self.client.add_event_callback(self._message, (RoomMessageText, RoomMessageNotice))
        self.client.add_event_callback(self._invite, InviteMemberEvent)
        self.client.add_ephemeral_callback(self._typing, TypingNoticeEvent)
        self._task = asyncio.create_task(
            self.client.sync_forever(
                timeout=30000, sync_filter={"room": {"timeline": {"limit": 200}}}
            )
        )

    async def _message(self, room: MatrixRoom, event: Any) -> None:
        if event.server_timestamp < self._since_ms:
            return
        source = event.source
        content = source.get("content", {})
        self.seen.append(
            Received(
                room.room_id,
                room.name or "",
                event.sender,
                event.body,
                content.get("msgtype", ""),
                content.get("formatted_body"),
                event.event_id,
                source,
            )
        )

    async def _typing(self, room: MatrixRoom, event: TypingNoticeEvent) -> None:
        self.typing.append((room.room_id, tuple(event.users)))

    async def _invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        stamp = event.source.get("origin_server_ts", self._since_ms)  # stripped state has none
        if stamp < self._since_ms:
            return
        mine = event.state_key == self.user_id and event.membership == "invite"
        if mine and room.room_id not in self.invited and room.room_id not in self._joining:
            self._joining.add(room.room_id)
            await self.client.join(room.room_id)
            self.invited.append(room.room_id)  # joined by now

    async def close(self) -> None:
        """Stop syncing and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def send(self, room_id: str, text: str, **extra: Any) -> str:
        """Send a text; its event id."""
        content = {"msgtype": "m.text", "body": text, **extra}
        answer = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        event_id = getattr(answer, "event_id", None)
        assert event_id, f"{self.user_id} could not send: {answer}"
        return str(event_id)

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        """Send an ``m.replace`` edit of one of our events."""
        return await self.send(
            room_id,
            f"* {text}",
            **{
                "m.new_content": {"msgtype": "m.text", "body": text},
                "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
            },
        )

    async def dm(self, user_id: str, first: str = "") -> str:
        """Open a DM with ``user_id`` (invited); with ``first``, wait until they say it there."""
        made = await self.client.room_create(is_direct=True, invite=[user_id])
        room_id = getattr(made, "room_id", None)
        assert room_id, f"{self.user_id} could not create a room: {made}"
        if first:
            await self.wait_for(first, str(room_id))
        return str(room_id)

    async def join(self, room: str) -> str:
        """Join a room by id or alias; the room id."""
        joined = await self.client.join(room)
        room_id = getattr(joined, "room_id", None)
        assert room_id, f"{self.user_id} could not join {room}: {joined}"
        return str(room_id)

    def bodies(self, room_id: str | None = None) -> list[str]:
        """Every body seen (in one room)."""
        return [r.body for r in self.seen if room_id is None or r.room_id == room_id]

    def room_name(self, room_id: str) -> str:
        """The room's name as this client knows it now."""
        room = self.client.rooms.get(room_id)
        return (room.name or "") if room is not None else ""

    async def wait_for(
        self, text: str, room_id: str | None = None, timeout: float = 10.0
    ) -> Received:
        """The first message containing ``text``; ``AssertionError`` with what came if none."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for item in self.seen:
                if text in item.body and (room_id is None or item.room_id == room_id):
                    return item
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{self.user_id} never received {text!r}; got: {self.bodies()}"
                )
            await asyncio.sleep(POLL)

    async def wait_invite(self, timeout: float = 10.0, after: int = 0) -> str:
        """The room of the next invite (joined already)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.invited) <= after:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.user_id} was not invited anywhere")
            await asyncio.sleep(POLL)
        return self.invited[after]


# --- backline in-process --------------------------------------------------------------------


class Backline:
    """backline with its Matrix adapter and a console, serving the appservice at ``as_port``."""

    def __init__(
        self, synapse: Synapse, database: Path, rules: Path, clock: Clock | None = None
    ) -> None:
        self.synapse = synapse
        self.database = database
        self.rules = rules
        self.clock: Clock = clock or SystemClock()
        self.out = io.StringIO()
        self.core: Core | None = None
        self.adapter: MatrixAdapter | None = None
        self.console: ConsoleAdapter | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, **settings: Any) -> MatrixAdapter:
        """A core on the database, the adapter's routes served, the adapter started."""
        self.core = Core.open(self.rules, self.database, self.clock)
        self.core.store.migrate(MIGRATIONS)
        app = web.Application()
        self.adapter = MatrixAdapter(
            Port(self.core, "matrix"), self.synapse.settings(**settings), app
        )
        self.console = ConsoleAdapter(Port(self.core, "console"), out=self.out, echo=False)
        self.core.delivery.attach(self.console)
        self.core.delivery.attach(self.adapter)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.synapse.as_port).start()
        await self.adapter.start()
        return self.adapter

    async def stop(self, *, abort: bool = False) -> None:
        """Stop the adapter (as a crash would with ``abort``), the server and the store."""
        if self.core is None or self.adapter is None:
            return
        await (self.adapter.abort() if abort else self.adapter.stop())
        if self._runner is not None:
            await self._runner.cleanup()
        for adapter in (self.adapter, self.console):
            if adapter is not None:
                self.core.delivery.detach(adapter)
        self.core.store.close()
        self.core = self.adapter = self.console = None
        self._runner = None

    @property
    def port(self) -> Port:
        """The adapter's port."""
        assert self.adapter is not None, "start backline first"
        return self.adapter.port

    def state(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        assert self.core is not None, "start backline first"
        return snapshot(self.core.store)

    def room_id(self, key: str) -> str | None:
        """A room backline keeps (``ix:i1``, ``desk:@alice:localhost``), as stored."""
        assert self.core is not None, "start backline first"
        rows = self.core.store.conn.execute(
            "SELECT room_id FROM matrix_rooms WHERE key = ?", (key,)
        ).fetchall()
        return str(rows[0][0]) if rows else None

    async def joined_room(self, person: Person, iid: str, timeout: float = 10.0) -> str:
        """Interaction ``iid``'s room, once ``person`` has joined it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            room_id = self.room_id(f"ix:{iid}")
            if room_id is not None and room_id in person.invited:
                return room_id
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{person.user_id} did not join {iid}'s room ({room_id})")
            await asyncio.sleep(POLL)

    def console_lines(self, member: str) -> list[str]:
        """What the console showed ``@member``."""
        found = (_DELIVERY.match(line) for line in self.out.getvalue().splitlines())
        return [m["text"] for m in found if m and m["who"] == f"@{member}"]


# --- backline run, as a real process -------------------------------------------------------

RUN_TOML = (
    BASE_TOML
    + """\
[matrix]
enabled = true
homeserver = "{homeserver}"
server_name = "{server}"
as_token = "{as_token}"
hs_token = "{hs_token}"
retry_max = 1.0
"""
)


@dataclass
class BacklineRun(BacklineProcess):
    """``backline run`` with ``[matrix]`` enabled, listening where Synapse pushes.

    Build it as ``BacklineRun(folder, synapse, synapse.as_port, rules=…)``.
    """

    rules: Path = RULES

    def write_config(self) -> None:
        """Write ``backline.toml`` for the live Synapse."""
        synapse = self.server
        assert isinstance(synapse, Synapse)
        self.config.write_text(
            RUN_TOML.format(
                data=self.directory / "data",
                rules=self.rules,
                http=synapse.as_port,
                homeserver=synapse.url,
                server=SERVER,
                **synapse.tokens,
            ),
            encoding="utf-8",
        )
