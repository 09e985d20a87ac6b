"""The XMPP adapter (ADP-4, ADP-6): a slixmpp component (XEP-0114) or client, as an outlet.

Inbound stanzas go through one queue and one worker, so each sender's messages act in the
order they arrived. ``convert`` says what a stanza means; this module does the I/O:
connecting, reconnecting with backoff, holding messages while the server is away, and
parking messages a member's server bounced until that member is online again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.xmpp.config import XmppConfig
from adapters.xmpp.convert import (
    PLATFORM,
    Bounce,
    CustomerText,
    Ignore,
    MemberCommand,
    MessageIn,
    Outgoing,
    Refuse,
    bare,
    classify,
    customer_name,
    domain,
    effective_show,
    interaction_presence,
    presence_command,
    presence_show,
    to_customer,
    to_member,
)
from bot.directory.presence import PresenceState
from bot.dispatch.pipeline import new_ref
from bot.dispatch.turn import Turn
from bot.errors import CommandError
from bot.events import Command
from bot.outbound import Say

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config import Config
    from bot.core import Core

log = logging.getLogger("backline.xmpp")

OFFLINE = frozenset({"service-unavailable", "recipient-unavailable"})
PARK_LIMIT = 200  # messages kept per offline member; the oldest go first
SENT_MEMORY = 2000  # sent messages remembered by id, to park the ones that bounce
PRESENCE_STATES = {
    "ready": PresenceState.READY,
    "notready": PresenceState.NOT_READY,
    "logout": PresenceState.LOGGED_OFF,
}


@dataclass(frozen=True)
class PresenceIn:
    """The fields of a ``<presence/>`` the adapter read."""

    frm: str
    to: str
    type: str
    show: str | None
    status: str = ""


Inbound = MessageIn | PresenceIn


class XmppAdapter:
    """Members and customers on XMPP, seen from the core as the outlet ``xmpp``."""

    name = PLATFORM

    def __init__(
        self,
        core: Core,
        config: XmppConfig,
        *,
        backoff: float = 0.2,
        connect_timeout: float = 10.0,
    ) -> None:
        self.core = core
        self.config = config.validate()
        self.client_mode = config.mode == "client"
        self.me = bare(config.jid)  # the bot's JID: the component domain or the account
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self.connected = False
        self.was_down = False
        self.stream: Any = None
        self.inbox: asyncio.Queue[Inbound] = asyncio.Queue()
        self.held: list[Outgoing] = []  # while the server is away
        self.parked: dict[str, list[Outgoing]] = {}  # bounced: member offline
        self.sent: OrderedDict[str, Outgoing] = OrderedDict()
        self.customer_jids: dict[str, str] = {}  # customer name -> bare JID
        self.customer_full: dict[str, str] = {}  # customer name -> last full JID
        self.customer_address: dict[str, str] = {}  # customer name -> routing address
        self.resources: dict[str, dict[str, str]] = {}  # member JID -> resource -> show
        self.applied: dict[str, str] = {}  # member JID -> the show last applied
        self.shown: dict[str, dict[str, tuple[str, str | None, str]]] = {}
        self.subscribed: set[str] = set()
        self.seen_customer_ids: OrderedDict[str, None] = OrderedDict()
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._connector: asyncio.Task[None] | None = None
        self._session = asyncio.Event()
        core.delivery.attach(self)

    # -- outlet --------------------------------------------------------------------------

    def reaches(self, recipient: str) -> bool:
        """Members with an XMPP identity; customers who wrote from an XMPP JID."""
        if recipient.startswith("@"):
            return self.member_jid(recipient[1:]) is not None
        if recipient.startswith("customer:"):
            return recipient.removeprefix("customer:") in self.customer_jids
        return False

    def member_jid(self, member_id: str) -> str | None:
        """The member's bare JID, if they have one."""
        handle = self.core.directory.identities.handles(member_id).get(PLATFORM)
        return bare(handle) if handle else None

    async def send(self, message: Say) -> None:
        """Deliver one message as a chat, or a headline for a system message (MSG-3)."""
        if message.to.startswith("customer:"):
            name = message.to.removeprefix("customer:")
            out = to_customer(message, self.customer_full[name], self.customer_address[name])
            if out is not None:
                self.emit(out)
            return
        jid = self.member_jid(message.to.removeprefix("@"))
        if jid is None:
            return
        self.emit(to_member(message, jid, self.me, client=self.client_mode))
        if message.interaction and not self.client_mode:
            self.show_interaction(jid, message.interaction)

    def emit(self, out: Outgoing) -> None:
        """Send now, or hold it until the server is back."""
        if not self.connected or self.stream is None:
            self.held.append(out)
            return
        msg = self.stream.make_message(
            mto=out.to, mbody=out.body, mtype=out.type, mfrom=out.frm, msubject=out.subject
        )
        msg["id"] = secrets.token_hex(8)
        if out.type == "chat":
            msg["chat_state"] = "active"
        self.sent[msg["id"]] = out
        while len(self.sent) > SENT_MEMORY:
            self.sent.popitem(last=False)
        msg.send()

    def show_interaction(self, jid: str, iid: str) -> None:
        """Interaction ``iid``'s contact JID shows its state as presence (ADP-4)."""
        ix = self.core.engine.live.get(iid)
        member = self.core.directory.identify(PLATFORM, jid)
        party = ix.party(f"@{member.id}") if ix is not None and member is not None else None
        if ix is None or (party is not None and not party.connected):
            view = interaction_presence(iid, "closed", live=False)
        else:
            view = interaction_presence(ix.label, ix.state, ix.live)
        seen = self.shown.setdefault(jid, {})
        if seen.get(iid) == view or (iid not in seen and view[0] == "unavailable"):
            return
        seen[iid] = view
        if view[0] == "unavailable":
            del seen[iid]
        self.send_presence(jid, f"{iid}@{self.me}", *view)

    def refresh_contacts(self, jid: str) -> None:
        """Re-show every interaction contact of ``jid`` (after a command may have changed it)."""
        for iid in list(self.shown.get(jid, {})):
            self.show_interaction(jid, iid)

    def send_presence(
        self, to: str, frm: str, ptype: str, show: str | None = None, status: str = ""
    ) -> None:
        """Send a presence from one of our JIDs (dropped while disconnected: it is a view)."""
        if not self.connected or self.stream is None:
            return
        pres = self.stream.make_presence(pto=to, pfrom=frm, pstatus=status or None)
        if ptype != "available":
            pres["type"] = ptype
        if show:
            pres["show"] = show
        pres.send()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (waiting up to ``connect_timeout``) and keep reconnecting in the background."""
        self._stopping = False
        self._worker = asyncio.create_task(self._work(), name="xmpp-inbound")
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

    async def stop(self) -> None:
        """Disconnect and stop listening."""
        self._stopping = True
        for task in (self._connector, self._worker, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._connector, self._worker, *self._tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        stream, self.stream, self.connected = self.stream, None, False
        if stream is not None:
            await self._close(stream)
        if self in self.core.delivery.outlets:
            self.core.delivery.detach(self)

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
            if self._stopping:
                return
            self._down(stream)
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
        stream.auto_authorize = None  # subscriptions are answered below
        stream.register_plugin("xep_0030")
        stream.register_plugin("xep_0085")  # chat states
        stream.register_plugin("xep_0184", {"auto_ack": False, "auto_request": False})
        stream.register_plugin("xep_0199")
        stream.add_event_handler("message", self._on_message)
        stream.add_event_handler("message_error", self._on_message_error)
        stream.add_event_handler("presence", self._on_presence)
        stream.add_event_handler("stream_error", self._on_stream_error)
        return stream

    def _up(self, stream: Any) -> None:
        self.stream, self.connected = stream, True
        self._session.set()
        if self.client_mode:
            stream.send_presence()
        for member in self.core.directory.data.members.values():
            jid = self.member_jid(member.id)
            if jid is not None:
                self.subscribe(jid)
        held, self.held = self.held, []
        for out in held:
            self.emit(out)
        log.info("xmpp: connected as %s", self.me)
        if self.was_down:
            self.was_down = False
            self._spawn(self.core.adapter_changed(PLATFORM, up=True))

    def _down(self, stream: Any) -> None:
        was_connected = self.connected and self.stream is stream
        self.connected, self.stream = False, None
        self._session.clear()
        self.subscribed.clear()
        self.resources.clear()
        self.shown.clear()
        with contextlib.suppress(Exception):
            stream.cancel_connection_attempt()
            stream.abort()
        if was_connected and not self.was_down:
            self.was_down = True
            self._spawn(self.core.adapter_changed(PLATFORM, up=False))

    def subscribe(self, jid: str) -> None:
        """Ask for a member's presence (once per session) and show ours (ADP-4)."""
        if jid in self.subscribed or not self.connected:
            return
        self.subscribed.add(jid)
        self.stream.send_presence(pto=jid, pfrom=self.me, ptype="subscribe")
        if not self.client_mode:
            self.send_presence(jid, self.me, "available", None, "backline")

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("xmpp: background work failed ref=%s", new_ref())

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- inbound: slixmpp events -> the queue --------------------------------------------

    def _on_message(self, msg: Any) -> None:
        if msg["type"] == "error":
            return  # handled by _on_message_error
        if msg["request_receipt"] and msg["id"] and self.stream is not None:
            ack = self.stream.make_message(mto=msg["from"], mfrom=msg["to"])
            ack["receipt"] = msg["id"]  # XEP-0184, from the address it was sent to
            ack.send()
        self.inbox.put_nowait(
            MessageIn(str(msg["from"]), str(msg["to"]), msg["type"], msg["body"], msg["id"] or None)
        )

    def _on_message_error(self, msg: Any) -> None:
        self.inbox.put_nowait(
            MessageIn(
                str(msg["from"]),
                str(msg["to"]),
                "error",
                None,
                msg["id"] or None,
                msg["error"]["condition"],
            )
        )

    def _on_presence(self, pres: Any) -> None:
        self.inbox.put_nowait(
            PresenceIn(
                str(pres["from"]),
                str(pres["to"]),
                pres["type"],
                pres["show"] or None,
                pres["status"],
            )
        )

    def _on_stream_error(self, error: Any) -> None:
        log.error("xmpp: stream error from the server: %s %s", error["condition"], error["text"])

    # -- inbound: the worker -------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            item = await self.inbox.get()
            try:
                if isinstance(item, MessageIn):
                    await self.on_message(item)
                else:
                    await self.on_presence(item)
            except Exception:
                log.exception("xmpp: could not handle %r ref=%s", item, new_ref())

    async def on_message(self, msg: MessageIn) -> None:
        """Act on one message: a member's command, a customer's chat, a bounce."""
        match classify(msg, self.me, client=self.client_mode):
            case MemberCommand(command=command):
                await self.member_command(msg, command)
            case CustomerText() as text:
                await self.customer_text(text, msg.id)
            case Bounce() as bounce:
                self.bounced(bounce)
            case Refuse(condition=condition, text=text):
                self.refuse(msg, condition, text)
            case Ignore():
                pass

    async def member_command(self, msg: MessageIn, command: Command) -> None:
        """Run a member's command; the reply comes from the address they wrote to."""
        if self.client_mode and self.core.directory.identify(PLATFORM, command.sender) is None:
            route = self.config.client_route
            await self.customer_text(
                CustomerText(
                    msg.frm,
                    self.me,
                    route,
                    command.text,
                    bye=command.text.lower() in ("bye", "/bye", "goodbye"),
                ),
                msg.id,
            )
            return
        self.subscribe(command.sender)
        frm = bare(msg.to)

        async def respond(turn: Turn) -> None:
            if turn.reply:
                self.emit(Outgoing(bare(msg.frm), frm, "chat", turn.reply))

        await self.core.handle(command, respond)
        if not self.client_mode:
            if command.context:
                self.show_interaction(command.sender, command.context)
            self.refresh_contacts(command.sender)

    async def customer_text(self, text: CustomerText, stanza_id: str | None) -> None:
        """An outside JID chats to a routing address: arrive, say, or hang up (INT-2)."""
        if stanza_id:
            seen = f"{bare(text.jid)}/{stanza_id}"
            if seen in self.seen_customer_ids:
                return  # a retried delivery acts once
            self.seen_customer_ids[seen] = None
            while len(self.seen_customer_ids) > SENT_MEMORY:
                self.seen_customer_ids.popitem(last=False)
        name = customer_name(text.jid, self.customer_jids)
        self.customer_jids[name] = bare(text.jid)
        self.customer_full[name] = text.jid
        self.customer_address[name] = text.address
        customers = self.core.engine.customers

        async def act() -> None:
            if customers.interaction_of(name) is None:
                if text.bye:
                    return
                await customers.arrive("chat", name, text.target, text.text)
            elif text.bye:
                await customers.hang_up(name)
            else:
                await customers.say(name, text.text)

        try:
            await self.core.act(act)
        except CommandError as exc:
            self.emit(Outgoing(text.jid, text.address, "chat", f"Sorry: {exc.message}"))

    def bounced(self, bounce: Bounce) -> None:
        """A message the server returned: park it if its member is offline, else log it."""
        out = self.sent.pop(bounce.id, None) if bounce.id else None
        if out is None:
            return
        is_member = self.core.directory.identify(PLATFORM, bare(out.to)) is not None
        if is_member and bounce.condition in OFFLINE:
            box = self.parked.setdefault(bare(out.to), [])
            box.append(out)
            del box[:-PARK_LIMIT]
            return
        log.warning("xmpp: %s refused a message (%s); dropped", out.to, bounce.condition)

    def refuse(self, msg: MessageIn, condition: str, text: str) -> None:
        """Answer a stanza we cannot take with a stanza error that says why."""
        if self.stream is None:
            return
        error = self.stream.make_message(mto=msg.frm, mfrom=msg.to, mtype="error")
        if msg.id:
            error["id"] = msg.id
        error["error"]["type"] = "modify"
        error["error"]["condition"] = condition
        error["error"]["text"] = text
        error.send()

    async def on_presence(self, pres: PresenceIn) -> None:
        """Subscriptions, probes, members' availability and customers leaving."""
        if bare(pres.frm) == self.me or (not self.client_mode and domain(pres.frm) == self.me):
            return  # our own presence: never answered (no loops)
        sender = bare(pres.frm)
        if pres.type == "subscribe":
            self.send_presence(sender, bare(pres.to), "subscribed")
            return
        if pres.type == "probe":
            self.answer_probe(sender, bare(pres.to))
            return
        show = presence_show(pres.type, pres.show)
        if show is None:
            return
        member = self.core.directory.identify(PLATFORM, sender)
        if member is None:
            if show == "unavailable" and bare(pres.to) != self.me:
                await self.customer_gone(sender)
            return
        if bare(pres.to) != self.me:
            return  # directed presence to an interaction contact: not their availability
        await self.member_presence(sender, pres.frm, show)

    async def member_presence(self, jid: str, full: str, show: str) -> None:
        """Map a member's XMPP availability to backline presence by the rule table."""
        resource = full.partition("/")[2]
        resources = self.resources.setdefault(jid, {})
        if show == "unavailable":
            resources.pop(resource, None)
        elif resource:
            resources[resource] = show
        now = effective_show(resources)
        if now != "unavailable":
            self.unpark(jid)
        if self.applied.get(jid) == now:
            return
        self.applied[jid] = now
        text = presence_command(now, self.config.presence_map())
        if text is None:
            return
        member = self.core.directory.identify(PLATFORM, jid)
        if member is not None:
            current = self.core.directory.presence(member.id).state
            if PRESENCE_STATES[text.split()[0]] == current and " " not in text:
                return

        async def refused(turn: Turn) -> None:
            if turn.outcome != "ok" and turn.reply:
                self.emit(Outgoing(jid, self.me, "chat", turn.reply))

        await self.core.handle(Command(PLATFORM, jid, text), refused)

    def unpark(self, jid: str) -> None:
        """Deliver what bounced while the member was offline, in order."""
        for out in self.parked.pop(jid, []):
            self.emit(out)

    def answer_probe(self, jid: str, ours: str) -> None:
        """Tell a prober how one of our JIDs is (the bot, an interaction, an address)."""
        node = ours.partition("@")[0] if "@" in ours else ""
        if node.startswith("i") and node[1:].isdigit():
            self.shown.get(jid, {}).pop(node, None)
            self.show_interaction(jid, node)
        else:
            self.send_presence(jid, ours, "available", None, "backline")

    async def customer_gone(self, jid: str) -> None:
        """A customer's client went offline: their chat ends (INT-2)."""
        name = next((n for n, j in self.customer_jids.items() if j == jid), None)
        if name is None or self.core.engine.customers.interaction_of(name) is None:
            return
        with contextlib.suppress(CommandError):
            await self.core.act(lambda: self.core.engine.customers.hang_up(name))


AdapterMaker = Callable[["Config", "Core", "web.Application"], XmppAdapter | None]


def xmpp_adapter(config: Config, core: Core, http: web.Application) -> XmppAdapter | None:
    """The adapter ``[xmpp] enabled = true`` asks for (``bot.app.ADAPTERS``), or None."""
    if not config.xmpp.enabled:
        return None
    return XmppAdapter(core, config.xmpp)
