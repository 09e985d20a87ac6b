"""SIP transactions (RFC 3261 §17) with timers A to L, over UDP and TCP.

``Stack`` owns the transports. Requests that start a server transaction go to the
transaction user (``Core.request``); retransmitted requests are answered from the
transaction without reaching it (an INVITE answered 2xx absorbs them, RFC 6026). An
INVITE gets ``100 Trying`` only when its TU has not answered it within 200 ms.
``Stack.request`` runs a client transaction and returns the final response (``408`` made
up on Timer B/F). Malformed requests get ``400`` with the reason; unparseable data and
bytes over a source's budget are dropped. Every timer runs on ``deadlines``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

from adapters.sip.deadlines import Deadline, Deadlines
from adapters.sip.message import Message, SipError, parse, response
from adapters.sip.transport import Budget, Source, Tcp, Udp

log = logging.getLogger("backline.sip")


TRYING_WITHIN = 0.2
"""Seconds an INVITE waits for its TU's first answer before the stack sends 100 Trying."""


@dataclass(frozen=True)
class Timers:
    """RFC 3261 T1, T2 and T4 (seconds); tests may shorten them."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0


class _Random:
    """Cryptographically random hex digits, read from the OS a few kilobytes at a time.

    Each call sets up a dozen tags, branches and Call-IDs; one ``os.urandom`` per id
    would be a system call each.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._digits = ""
        self._at = 0

    def hex(self, digits: int) -> str:
        """``digits`` new random hex digits (RFC 3261 §19.3: cryptographically random)."""
        at = self._at
        if at + digits > len(self._digits):
            self._digits, at = os.urandom(self._size).hex(), 0
        self._at = at + digits
        return self._digits[at : at + digits]

    def forget(self) -> None:
        """Drop the digits read so far (a forked child must not repeat its parent's ids)."""
        self._digits, self._at = "", 0


_random = _Random()
os.register_at_fork(after_in_child=_random.forget)


def branch() -> str:
    """A new RFC 3261 branch (magic cookie first)."""
    return "z9hG4bK" + _random.hex(16)


def tag() -> str:
    """A new From/To tag."""
    return _random.hex(12)


class User(Protocol):
    """The transaction user: what the stack hands new requests to."""

    async def request(self, msg: Message, tx: ServerTransaction) -> None:
        """A new request; answer through ``tx.respond``."""

    def cancelled(self, tx: ServerTransaction) -> None:
        """A CANCEL matched INVITE transaction ``tx`` (the stack answered the CANCEL)."""

    def stray(self, msg: Message, source: Source) -> None:
        """A request or response no transaction matches (an ACK for a 2xx, a late 2xx)."""


@dataclass(eq=False)
class ServerTransaction:
    """One received request and the responses to it (INVITE: §17.2.1, others: §17.2.2)."""

    stack: Stack
    request: Message
    source: Source
    key: tuple[str, str]
    last: Message | None = None
    done: bool = False
    _timer: Deadline | None = field(default=None, repr=False)

    @property
    def reliable(self) -> bool:
        """Over TCP: no retransmissions, no lingering."""
        return self.source.transport == "TCP"

    def respond(self, msg: Message) -> None:
        """Send a response (the last one is kept for retransmitted requests)."""
        if self.done and msg.status >= 200:
            return
        self.last = msg
        self.stack.send(msg, self.source)
        if msg.status < 200:
            self._cancel()  # an answer is out: no 100 Trying to send any more
            return
        self.done = True
        t = self.stack.timers
        if self.request.method == "INVITE" and msg.status < 300:
            # RFC 6026 Accepted: retransmitted INVITEs are absorbed for Timer L while the
            # dialog retransmits the 2xx until its ACK (§13.3.1.4)
            self._later(64 * t.t1, lambda: self.stack.forget(self))
        elif self.request.method == "INVITE":
            self._retransmit(t.t1, 64 * t.t1)  # Timer G until ACK, Timer H gives up
        else:
            self._later(0 if self.reliable else 64 * t.t1, lambda: self.stack.forget(self))  # J

    def trying_unless_answered(self) -> None:
        """``100 Trying`` unless the TU answers first (§17.2.1: it must within 200 ms).

        The TU's 180 or final answer usually comes within milliseconds: that one answer
        stops the caller's retransmissions, and the 100 is never sent.
        """
        self._later(min(TRYING_WITHIN, self.stack.timers.t1), self._trying)

    def _trying(self) -> None:
        self._cancel()  # its own timer (already due), or the one a retransmission overtook
        if self.last is None:
            self.respond(response(self.request, 100))

    def _retransmit(self, interval: float, left: float) -> None:
        def again() -> None:
            if self.last is not None:
                self.stack.send(self.last, self.source)
            self._retransmit(min(2 * interval, self.stack.timers.t2), left - interval)

        if left <= 0:
            self.stack.forget(self)  # Timer H: the ACK never came
        elif self.reliable:
            self._later(left, lambda: self.stack.forget(self))
        else:
            self._later(interval, again)

    def acked(self) -> None:
        """The ACK for a non-2xx final response: Timer I, then forget."""
        self._cancel()
        self._later(0 if self.reliable else self.stack.timers.t4, lambda: self.stack.forget(self))

    @property
    def accepted(self) -> bool:
        """An INVITE answered 2xx (RFC 6026): the dialog, not the transaction, resends it."""
        last = self.last
        return self.request.method == "INVITE" and last is not None and 200 <= last.status < 300

    def retransmitted(self) -> None:
        """The same request again: answer with the last response (absorbed once accepted).

        An INVITE not answered at all yet gets its ``100 Trying`` now.
        """
        if self.last is None and self.request.method == "INVITE":
            self._trying()
        elif self.last is not None and not self.accepted:
            self.stack.send(self.last, self.source)

    def _later(self, delay: float, then: Callable[[], None]) -> None:
        self._cancel()
        self._timer = self.stack.deadlines.start(delay, then)

    def _cancel(self) -> None:
        if self._timer is not None:
            self.stack.deadlines.stop(self._timer)
            self._timer = None


@dataclass(eq=False)
class ClientTransaction:
    """One request we sent and what came back (INVITE: §17.1.1, others: §17.1.2)."""

    stack: Stack
    request: Message
    to: Source
    final: asyncio.Future[Message]
    provisional: Callable[[Message], None] | None = None
    _timers: list[Deadline] = field(default_factory=list, repr=False)

    def start(self) -> None:
        """Send, and arm Timer A/E (UDP retransmissions) and Timer B/F (give up)."""
        t = self.stack.timers
        self.stack.send(self.request, self.to)
        if self.to.transport == "UDP":
            self._arm(t.t1, t.t1)
        self._after(64 * t.t1, self._timeout)

    def _arm(self, delay: float, interval: float) -> None:
        def again() -> None:
            self.stack.send(self.request, self.to)
            cap = self.stack.timers.t2 if self.request.method != "INVITE" else 64 * interval
            self._arm(min(2 * interval, cap), min(2 * interval, cap))

        self._after(delay, again)

    def _after(self, delay: float, then: Callable[[], None]) -> None:
        self._timers.append(self.stack.deadlines.start(delay, then))

    def _stop(self) -> None:
        for timer in self._timers:
            self.stack.deadlines.stop(timer)
        self._timers = []

    def _timeout(self) -> None:
        self._stop()
        self.stack.forget_client(self)
        if not self.final.done():
            self.final.set_result(response(self.request, 408))

    def received(self, msg: Message) -> None:
        """A response for this transaction."""
        if msg.status < 200:
            if self.request.method == "INVITE":
                self._stop()
                self._after(64 * self.stack.timers.t1 * 6, self._timeout)  # proceeding: 3 min
            elif self.to.transport == "UDP":
                self._stop()
                self._arm(self.stack.timers.t2, self.stack.timers.t2)
                self._after(64 * self.stack.timers.t1, self._timeout)
            if self.provisional is not None:
                self.provisional(msg)
            return
        self._stop()
        if self.request.method == "INVITE" and msg.status >= 300:
            self.stack.send(self._ack(msg), self.to)  # same branch (§17.1.1.3)
            linger = 0 if self.to.transport == "TCP" else 32.0  # Timer D
        else:
            linger = 0 if self.to.transport == "TCP" else self.stack.timers.t4  # Timer K
        if not self.final.done():
            self.final.set_result(msg)
        if self.request.method == "INVITE" and msg.status < 300:
            self.stack.forget_client(self)  # retransmitted 2xx go to the dialog
        else:
            self._after(linger, lambda: self.stack.forget_client(self))

    def _ack(self, final: Message) -> Message:
        ack = Message(method="ACK", uri=self.request.uri)
        for name in ("Via", "From", "Call-ID", "Route"):
            for value in [v for n, v in self.request.headers if n == name][:1]:
                ack.add(name, value)
        ack.add("To", final.get("To"))
        ack.add("CSeq", f"{self.request.cseq[0]} ACK")
        ack.add("Max-Forwards", "70")
        return ack


class Stack:
    """The transports and the transaction tables."""

    def __init__(
        self,
        user: User,
        *,
        host: str = "127.0.0.1",
        timers: Timers | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.user = user
        self.host = host
        self.port = 0
        self.tcp_port = 0
        self.timers = timers or Timers()
        self.deadlines = Deadlines()
        self.budget = budget or Budget(rate=500.0, burst=1000.0)
        self.udp = Udp(self.receive)
        self.tcp = Tcp(self.receive)
        self.servers: dict[tuple[str, str], ServerTransaction] = {}
        self.clients: dict[tuple[str, str], ClientTransaction] = {}
        self.counts = {"received": 0, "sent": 0, "malformed": 0, "dropped": 0, "overloaded": 0}
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # once started

    async def start(self, port: int, tcp_port: int | None = None) -> None:
        """Bind UDP ``port`` and TCP (the same number unless given); 0 picks a free pair."""
        loop = self._loop = asyncio.get_running_loop()
        for attempt in range(20):
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self.udp, local_addr=(self.host, port)
            )
            self.port = int(transport.get_extra_info("sockname")[1])
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # bursts, not drops
            try:
                self.tcp_port = await self.tcp.start(
                    self.host, self.port if tcp_port is None else tcp_port
                )
                return
            except OSError:
                transport.close()
                if port != 0 or tcp_port is not None or attempt == 19:
                    raise  # the port asked for is taken for TCP

    async def stop(self) -> None:
        """Close the transports; pending client transactions get 408."""
        for tx in list(self.clients.values()):
            tx._timeout()
        for task in list(self._tasks):
            task.cancel()
        self.deadlines.close()
        if self.udp.transport is not None:
            self.udp.transport.close()
        await self.tcp.stop()
        self._loop = None

    def held(self) -> dict[str, int]:
        """Transactions and timers kept now: all zero once the last one's timers ran out."""
        return {
            "server transactions": len(self.servers),
            "client transactions": len(self.clients),
            "timers": len(self.deadlines),
            "requests being handled": len(self._tasks),
        }

    # -- sending -------------------------------------------------------------------------

    def send(self, msg: Message, to: Source) -> None:
        """Put one message on the wire towards ``to``."""
        self.counts["sent"] += 1
        data = msg.encode()
        if to.transport == "TCP" and to.stream is not None:
            if not to.stream.is_closing():
                to.stream.write(data)
        else:
            self.udp.send(data, to.hostport)

    def via(self, transport: str = "UDP") -> str:
        """A Via value for a new request from us (``rport`` asked for)."""
        port = self.tcp_port if transport == "TCP" else self.port
        return f"SIP/2.0/{transport} {self.host}:{port};branch={branch()};rport"

    def request(
        self,
        msg: Message,
        to: Source,
        provisional: Callable[[Message], None] | None = None,
    ) -> Awaitable[Message]:
        """Start a client transaction; awaits the final response (408 on timeout)."""
        future: asyncio.Future[Message] = self._running().create_future()
        tx = ClientTransaction(self, msg, to, future, provisional)
        self.clients[(msg.branch, msg.cseq[1])] = tx
        tx.start()
        return future

    def cancel(self, invite: Message, to: Source) -> Awaitable[Message]:
        """CANCEL a pending INVITE we sent (§9.1): same branch, same Request-URI."""
        cancel = Message(method="CANCEL", uri=invite.uri)
        for name in ("Via", "From", "To", "Call-ID", "Route"):
            for value in [v for n, v in invite.headers if n == name][:1]:
                cancel.add(name, value)
        cancel.add("CSeq", f"{invite.cseq[0]} CANCEL")
        cancel.add("Max-Forwards", "70")
        pending = self.clients.get((invite.branch, "INVITE"))
        if pending is not None:  # no final answer in 64*T1 after the CANCEL: give up (§9.1)
            pending._after(64 * self.timers.t1, pending._timeout)
        return self.request(cancel, to)

    # -- receiving -----------------------------------------------------------------------

    def receive(self, data: bytes, source: Source) -> None:
        """One message from a transport."""
        self.counts["received"] += 1
        if not self.budget.allow(source.host):
            self._overloaded(data, source)
            return
        try:
            msg = parse(data)
        except SipError as exc:
            self.counts["malformed"] += 1
            self._bad_request(data, source, str(exc))
            return
        if msg.is_request:
            self._request(msg, source)
        else:
            self._response(msg, source)

    def _overloaded(self, data: bytes, source: Source) -> None:
        self.counts["dropped"] += 1
        if source.host in self._warned:
            return
        self._warned.add(source.host)  # one 503 per episode; the rest are dropped
        asyncio.get_running_loop().call_later(1.0, self._warned.discard, source.host)
        log.warning("sip: %s is over its message budget; dropping", source.host)
        try:
            msg = parse(data)
        except SipError:
            return
        if msg.is_request and msg.method != "ACK":
            busy = response(msg, 503)
            busy.add("Retry-After", "5")
            self.counts["overloaded"] += 1
            self.send(busy, source)

    def _bad_request(self, data: bytes, source: Source, reason: str) -> None:
        """Answer 400 when enough of the request is there to address a response."""
        try:
            msg = _lenient(data)
        except SipError:
            return  # not SIP enough to answer: dropped
        if msg.is_request and msg.method != "ACK":
            self.send(response(msg, 400, reason[:100]), source)

    def _request(self, msg: Message, source: Source) -> None:
        method = msg.method
        key = (msg.branch, "INVITE" if method in ("ACK", "CANCEL") else method)
        tx = self.servers.get(key) if msg.branch else None
        if method == "ACK":
            if tx is not None and tx.last is not None and tx.last.status >= 300:
                tx.acked()
            else:
                self.user.stray(msg, source)
            return
        if method == "CANCEL":
            self._cancel(msg, source, tx)
            return
        if tx is not None:
            tx.retransmitted()
            return
        tx = ServerTransaction(self, msg, source, key)
        if msg.branch:
            self.servers[key] = tx
        max_forwards = msg.get("Max-Forwards")
        if max_forwards == "0":
            tx.respond(response(msg, 483))
            return
        if method == "INVITE":
            tx.trying_unless_answered()
        self._spawn(self._deliver(msg, tx))

    def _cancel(self, msg: Message, source: Source, invite: ServerTransaction | None) -> None:
        key = (msg.branch, "CANCEL")
        done = self.servers.get(key)
        if done is not None:
            done.retransmitted()
            return
        tx = ServerTransaction(self, msg, source, key)
        self.servers[key] = tx
        if invite is None or invite.request.method != "INVITE":
            tx.respond(response(msg, 481))
            return
        tx.respond(response(msg, 200, to_tag=invite.request.to_tag))
        if not invite.done:
            self.user.cancelled(invite)

    async def _deliver(self, msg: Message, tx: ServerTransaction) -> None:
        try:
            await self.user.request(msg, tx)
        except Exception:
            log.exception("sip: %s from %s failed", msg.method, tx.source.host)
            tx.respond(response(msg, 500))

    def _response(self, msg: Message, source: Source) -> None:
        try:
            key = (msg.branch, msg.cseq[1])
        except SipError:  # no CSeq to match a transaction by
            return
        tx = self.clients.get(key)
        if tx is not None:
            tx.received(msg)
        else:
            self.user.stray(msg, source)

    def forget(self, tx: ServerTransaction) -> None:
        """A server transaction is over."""
        if self.servers.get(tx.key) is tx:
            del self.servers[tx.key]
        tx._cancel()

    def forget_client(self, tx: ClientTransaction) -> None:
        """A client transaction is over."""
        key = (tx.request.branch, tx.request.cseq[1])
        if self.clients.get(key) is tx:
            del self.clients[key]

    def _running(self) -> asyncio.AbstractEventLoop:
        """The loop the stack was started on (looked up once: a system call on Linux)."""
        return self._loop or asyncio.get_running_loop()

    def _spawn(self, work: Coroutine[object, object, None]) -> None:
        task = self._running().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _lenient(data: bytes) -> Message:
    """Enough of a malformed request to answer it: start line, Via, From, To, Call-ID, CSeq."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isalpha():
        raise SipError("not a request")
    msg = Message(method=parts[0].upper()[:20], uri=parts[1][:200])
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and value.isprintable():
            msg.add(name, value.strip())
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if not msg.get(name):
            raise SipError(f"missing {name}")
    if not msg.get("Via").upper().startswith("SIP/2.0/"):
        raise SipError("malformed Via")
    return msg
