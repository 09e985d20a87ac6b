"""A real Prosody for live tests and the bench, plus small slixmpp test clients.

Follows shared/docs/LIVE-SERVERS.md: config in a temp dir, loopback only, free
non-default ports, a component secret, ``modules_disabled``, users registered with
``prosodyctl``. Clients are created inside the running loop and every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOMAIN = "localhost"
OTHER_DOMAIN = "b.localhost"  # a second VirtualHost: same local parts, different users
DOMAINS = (DOMAIN, OTHER_DOMAIN)
COMPONENT = "backline.localhost"
PASSWORD = "pw-test-only"


def prosody_missing() -> bool:
    """Whether the ``prosody`` binary is absent on this machine."""
    return shutil.which("prosody") is None or shutil.which("prosodyctl") is None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


CONFIG = """
daemonize = false
run_as_root = true
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
certificates = "{dir}/certs"
log = {{ debug = "{dir}/prosody.log" }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{}}
legacy_ssl_ports = {{}}
s2s_ports = {{}}
http_ports = {{}}
https_ports = {{}}
modules_enabled = {{ "roster", "saslauth", "disco", "ping", "presence", "register" }}
modules_disabled = {{ "s2s", "tls", "offline" }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"

-- the shipped snippet, as a user pastes it: before the first VirtualHost
{snippet}
{hosts}
Component "conference.{domain}" "muc"
    muc_room_locking = false
"""
MANIFEST = Path(__file__).resolve().parents[2] / "manifests" / "xmpp" / "prosody-component.cfg.lua"


def shipped_snippet(component_port: int, secret: str, manifest: Path = MANIFEST) -> str:
    """``manifests/xmpp/prosody-component.cfg.lua`` with only its example values replaced."""
    text = manifest.read_text(encoding="utf-8")
    for example, real in (
        ("{ 5347 }", f"{{ {component_port} }}"),
        ("backline.example.org", COMPONENT),
        ('"change-me"', f'"{secret}"'),
    ):
        assert example in text, f"{manifest} no longer has {example}"
        text = text.replace(example, real)
    return text


@dataclass
class Prosody:
    """One Prosody process on loopback, configured in ``directory``."""

    directory: Path
    secret: str = "test-secret-c0mp0nent"
    c2s_port: int = field(default_factory=free_port)
    component_port: int = field(default_factory=free_port)
    domains: tuple[str, ...] = DOMAINS
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        """The config file."""
        return self.directory / "prosody.cfg.lua"

    @property
    def log(self) -> Path:
        """The server's debug log (attach it to a failing test's report)."""
        return self.directory / "prosody.log"

    def write_config(self) -> None:
        """Write the config; data and certificates stay inside ``directory``.

        The component comes from the shipped manifest snippet itself (issue 14, defect 6).
        """
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        (self.directory / "certs").mkdir(exist_ok=True)
        self.config.write_text(
            CONFIG.format(
                dir=self.directory,
                c2s=self.c2s_port,
                component=self.component_port,
                domain=DOMAIN,
                hosts="".join(f'VirtualHost "{host}"\n' for host in self.domains),
                snippet=shipped_snippet(self.component_port, self.secret),
            ),
            encoding="utf-8",
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start in the foreground (we keep the PID) and wait until both ports accept."""
        if not self.config.exists():
            self.write_config()
        self.process = subprocess.Popen(
            ["prosody", "--config", str(self.config), "-F"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        for port in (self.c2s_port, self.component_port):
            while not _accepts(port):
                if self.process.poll() is not None:
                    raise RuntimeError(f"prosody exited early; see {self.log}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"prosody did not open port {port} in {timeout}s")
                time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM by PID; SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def restart(self) -> None:
        """Stop then start on the same ports and data."""
        self.stop()
        self.start()

    def register(self, name: str, password: str = PASSWORD, *, domain: str = DOMAIN) -> str:
        """Create a user on one of the VirtualHosts (idempotent); returns its bare JID."""
        subprocess.run(
            ["prosodyctl", "--config", str(self.config), "register", name, domain, password],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return f"{name}@{domain}"


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- clients --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """A stanza a test client received, reduced to what tests assert on."""

    kind: str  # "message" or "presence"
    type: str  # chat, headline, error, available, away, unavailable, subscribe ...
    frm: str  # full JID it came from
    body: str = ""
    status: str = ""
    xml: str = ""


class Client:
    """A slixmpp client that records every message and presence it receives.

    Create it inside the running loop (``await Client.online(...)``).
    """

    def __init__(self, jid: str, port: int, password: str = PASSWORD) -> None:
        import slixmpp

        self.jid = jid
        self.port = port
        self.xmpp = slixmpp.ClientXMPP(jid, password)
        self.xmpp.enable_plaintext = True
        self.xmpp.enable_starttls = False
        self.xmpp.enable_direct_tls = False
        self.xmpp.register_plugin("feature_mechanisms")
        self.xmpp.register_plugin("xep_0030")
        self.xmpp.register_plugin("xep_0184")
        self.xmpp.register_plugin("xep_0199")
        for plugin in ("xep_0004", "xep_0050", "xep_0085", "xep_0308"):  # forms, commands …
            self.xmpp.register_plugin(plugin)
        mechanisms = self.xmpp.plugin["feature_mechanisms"]
        mechanisms.unencrypted_plain = True
        mechanisms.unencrypted_scram = True
        self.xmpp.plugin["xep_0184"].auto_ack = True
        self.xmpp.plugin["xep_0184"].auto_request = False
        self.received: list[Received] = []
        self._changed = asyncio.Event()
        self._session = asyncio.Event()
        self.xmpp.add_event_handler("session_start", self._started)
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath

        # every message, with or without a body (errors, receipts, chat states)
        self.xmpp.register_handler(
            Callback("all messages", MatchXPath("{jabber:client}message"), self._message)
        )
        self.xmpp.add_event_handler("presence", self._presence)
        self.xmpp.add_event_handler("disconnected", lambda _: self._session.clear())

    @classmethod
    async def online(cls, jid: str, port: int, timeout: float = 10.0) -> Client:
        """Connect, send initial presence, and return once the session started."""
        client = cls(jid, port)
        await client.connect(timeout)
        return client

    async def connect(self, timeout: float = 10.0) -> None:
        """(Re)connect and wait for the session."""
        self._session.clear()
        self.xmpp.connect("127.0.0.1", self.port)
        await asyncio.wait_for(self._session.wait(), timeout)

    async def _started(self, _: Any) -> None:
        self.xmpp.send_presence()
        self._session.set()

    def _message(self, msg: Any) -> None:
        self._record(Received("message", msg["type"], str(msg["from"]), msg["body"], "", str(msg)))

    def _presence(self, pres: Any) -> None:
        self._record(
            Received("presence", pres["type"], str(pres["from"]), "", pres["status"], str(pres))
        )

    def _record(self, item: Received) -> None:
        self.received.append(item)
        self._changed.set()

    def say(self, to: str, body: str, *, mtype: str = "chat", **extra: Any) -> Any:
        """Send a message; returns the stanza (its ``id`` is set)."""
        msg = self.xmpp.make_message(mto=to, mbody=body, mtype=mtype)
        for key, value in extra.items():
            msg[key] = value
        msg.send()
        return msg

    def messages(self, frm: str | None = None, *, mtype: str | None = None) -> list[Received]:
        """Messages received (optionally only from the bare JID ``frm`` / of one type)."""
        return [
            r
            for r in self.received
            if r.kind == "message"
            and (frm is None or r.frm.split("/")[0] == frm)
            and (mtype is None or r.type == mtype)
        ]

    def bodies(self, frm: str | None = None, *, mtype: str | None = None) -> list[str]:
        """Bodies of the messages ``messages`` returns."""
        return [r.body for r in self.messages(frm, mtype=mtype)]

    async def wait_for(
        self, check: Callable[[Received], bool], timeout: float = 5.0, *, after: int = 0
    ) -> Received:
        """The first received stanza (from index ``after``) ``check`` accepts, within timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for item in self.received[after:]:
                if check(item):
                    return item
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = "\n  ".join(
                    f"{r.kind}/{r.type} {r.frm}: {r.body or r.status}"
                    for r in self.received[after:]
                )
                raise TimeoutError(f"{self.jid} did not receive it in {timeout}s; got:\n  {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_body(
        self, frm: str, text: str, timeout: float = 5.0, *, after: int = 0, mtype: str = "chat"
    ) -> Received:
        """The first message from bare ``frm`` of ``mtype`` whose body contains ``text``."""
        return await self.wait_for(
            lambda r: (
                r.kind == "message"
                and r.type == mtype
                and r.frm.split("/")[0] == frm
                and text in r.body
            ),
            timeout,
            after=after,
        )

    def mark(self) -> int:
        """An index for ``wait_for(after=...)``: only stanzas received from now on."""
        return len(self.received)

    async def close(self, timeout: float = 3.0) -> None:
        """Disconnect and wait for it (bounded)."""
        if self.xmpp.is_connected():
            done = asyncio.get_running_loop().create_future()
            self.xmpp.add_event_handler(
                "disconnected", lambda _: done.done() or done.set_result(None), disposable=True
            )
            self.xmpp.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done, timeout)


def env_in_ci() -> bool:
    """Whether we run in CI (a missing server is then a failure, not a skip)."""
    return bool(os.environ.get("CI"))
