"""The XMPP stream (ADP-4): connect, reconnect with doubling delays, close.

A fresh slixmpp object per attempt. What a session starting or ending means, and what each
stanza means, is the ``StreamEvents`` listener's business; this module only keeps the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, Protocol

from adapters.xmpp import reader
from adapters.xmpp.config import XmppConfig
from adapters.xmpp.convert import MessageIn
from bot.port import new_ref

log = logging.getLogger("backline.xmpp")


class StreamEvents(Protocol):
    """What the connection tells its owner: session up or down, and the stanzas it read."""

    def up(self, stream: Any) -> None:
        """A session started on ``stream`` (after a client announced itself)."""

    def down(self, *, was_connected: bool) -> None:
        """The stream is gone; ``was_connected`` if a session had been up on it."""

    def message(self, msg: MessageIn) -> None:
        """A ``<message/>`` arrived: errors, chat states and receipts included."""

    def presence(self, pres: Any) -> None:
        """A ``<presence/>`` arrived."""

    def prepare(self, stream: Any) -> None:
        """A fresh stream before it connects: register what it serves (disco, commands)."""


class Connection:
    """One XMPP stream at a time, as a component (XEP-0114) or a client, kept connected."""

    def __init__(
        self,
        config: XmppConfig,
        events: StreamEvents,
        *,
        backoff: float = 0.2,
        connect_timeout: float = 10.0,
    ) -> None:
        self.config = config
        self.events = events
        self.client_mode = config.mode == "client"
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self.connected = False
        self.state = "connecting"  # health: up, connecting, reconnecting, down
        self.stream: Any = None
        self._stopping = False
        self._connector: asyncio.Task[None] | None = None
        self._session = asyncio.Event()

    async def start(self) -> None:
        """Connect (waiting up to ``connect_timeout``) and keep reconnecting in the background."""
        self._stopping = False
        self._connector = asyncio.create_task(self._keep_connected(), name="xmpp-connect")
        try:
            await asyncio.wait_for(self._session.wait(), self.connect_timeout)
        except TimeoutError:
            log.error(
                "xmpp: not connected to %s:%s after %.0fs; retrying in the background",
                self.config.host,
                self.config.port,
                self.connect_timeout,
            )

    async def stop(self, *work: asyncio.Task[Any] | None, abort: bool = False) -> None:
        """Stop reconnecting, cancel ``work`` (what uses the stream) with it, then disconnect.

        ``abort`` cuts the stream without closing it, as a crash would.
        """
        self._stopping = True
        self.state = "down"
        tasks = (self._connector, *work)
        for task in tasks:
            if task is not None:
                task.cancel()
        for task in tasks:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        stream, self.stream, self.connected = self.stream, None, False
        if stream is not None and abort:
            stream.abort()
        elif stream is not None:
            await self._close(stream)
        if stream is not None:
            await _retire(stream)

    async def _close(self, stream: Any, timeout: float = 3.0) -> None:
        if not stream.is_connected():
            stream.abort()
            return
        gone = asyncio.Event()
        stream.add_event_handler("disconnected", lambda _: gone.set(), disposable=True)
        stream.disconnect(wait=1.0)
        try:
            await asyncio.wait_for(gone.wait(), timeout)
        except TimeoutError:
            stream.abort()

    async def _keep_connected(self) -> None:
        """Connect; after every loss reconnect with doubling delays (up to reconnect_max)."""
        attempt = 0
        while not self._stopping:
            stream = self._make_stream()
            ended = asyncio.Event()
            self._watch(stream, ended)
            stream.connect(self.config.host, self.config.port)
            started = asyncio.create_task(self._session.wait())
            finished = asyncio.create_task(ended.wait())
            await asyncio.wait(
                {started, finished}, timeout=self.connect_timeout, return_when="FIRST_COMPLETED"
            )
            started.cancel()
            if self.connected and self.stream is stream:
                attempt = 0
                await finished  # connected: wait for the loss
            finished.cancel()
            await asyncio.gather(started, finished, return_exceptions=True)
            if self._stopping:
                return
            self._down(stream)
            await _retire(stream)
            delay = min(float(self.config.reconnect_max), self.backoff * 2**attempt)
            attempt += 1
            log.warning("xmpp: disconnected; reconnecting in %.1fs", delay)
            await asyncio.sleep(delay)

    def _watch(self, stream: Any, ended: asyncio.Event) -> None:
        stream.add_event_handler("disconnected", lambda _: ended.set())
        stream.add_event_handler("connection_failed", lambda _: ended.set())
        stream.add_event_handler("session_start", lambda _: self._up(stream))

    def _make_stream(self) -> Any:
        """A fresh slixmpp object per connection, created inside the running loop."""
        import slixmpp

        stream: Any
        if self.client_mode:
            stream = slixmpp.ClientXMPP(self.config.jid, self.config.secret)
            if self.config.plaintext:
                stream.enable_plaintext = True
                stream.enable_starttls = False
                stream.enable_direct_tls = False
                stream.register_plugin("feature_mechanisms")
                stream.plugin["feature_mechanisms"].unencrypted_plain = True
                stream.plugin["feature_mechanisms"].unencrypted_scram = True
        else:
            stream = slixmpp.ComponentXMPP(  # type: ignore[no-untyped-call]
                self.config.jid, self.config.secret, self.config.host, self.config.port
            )
        stream.auto_authorize = None  # subscriptions are answered by the listener
        for plugin in ("xep_0030", "xep_0004", "xep_0050", "xep_0199"):  # iq: disco, commands
            stream.register_plugin(plugin)
        if not self.client_mode:  # its roster would answer probes "unsubscribed": ours answers
            for event in ("probe", "subscribe", "subscribed", "unsubscribe", "unsubscribed"):
                stream.del_event_handler(f"presence_{event}", getattr(stream, f"_handle_{event}"))
        read_messages_directly(stream, self.events.message)
        stream.add_event_handler("presence", self.events.presence)
        stream.add_event_handler("stream_error", self._on_stream_error)
        self.events.prepare(stream)
        return stream

    def _up(self, stream: Any) -> None:
        self.stream, self.connected, self.state = stream, True, "up"
        self._session.set()
        if self.client_mode:
            stream.send_presence()
        self.events.up(stream)

    def _down(self, stream: Any) -> None:
        was_connected = self.connected and self.stream is stream
        self.connected, self.stream = False, None
        self.state = "reconnecting" if was_connected or self.state != "connecting" else "connecting"
        self._session.clear()
        with contextlib.suppress(Exception):
            stream.cancel_connection_attempt()
            stream.abort()
        self.events.down(was_connected=was_connected)

    def _on_stream_error(self, error: Any) -> None:
        log.error("xmpp: stream error from the server: %s %s", error["condition"], error["text"])


def read_messages_directly(stream: Any, deliver: Callable[[MessageIn], None]) -> None:
    """Hand every ``<message/>`` the stream parses to ``deliver``, read by ``reader``.

    Messages skip slixmpp's stanza objects, handler matching and plugin events (see
    ``reader``); every other element (iq, presence, handshake, stream errors) takes
    slixmpp's usual path.
    """
    usual = stream._spawn_event

    def spawn_event(element: ET.Element) -> None:
        if not reader.is_message(element):
            usual(element)
            return
        try:
            deliver(reader.read_message(element))
        except Exception:  # one odd stanza must not end the stream
            log.exception("xmpp: could not read %s ref=%s", ET.tostring(element), new_ref())

    stream._spawn_event = spawn_event


async def _retire(stream: Any) -> None:
    """Stop a finished stream's own tasks, so none is left pending when it is collected."""
    for task in (stream._run_out_filters, stream._current_connection_attempt):
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
