"""SIP on a real socket: OPTIONS, 400 for malformed requests, 481, retransmissions, floods.

ADP-5: bad input gets a specific 400 (or is dropped when it is not SIP at all), never a
crash; a retransmitted request is answered from its transaction without acting twice; a
source over its budget is dropped after one 503 with Retry-After, others are still served.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sip.message import Message, SipError, address, parse
from adapters.sip.message import _address as grammar_address
from adapters.sip.transport import Budget
from tests.adapters.sip.harness import PhoneSystem, phone_system

OPTIONS = (
    "OPTIONS sip:backline@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch}\r\n"
    "From: <sip:probe@127.0.0.1>;tag=1\r\n"
    "To: <sip:backline@127.0.0.1>\r\n"
    "Call-ID: {branch}@probe\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n"
)


class Client:
    """A plain UDP socket talking to backline."""

    def __init__(self, target: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.target = ("127.0.0.1", target)

    def send(self, data: bytes) -> None:
        """One datagram."""
        self.sock.sendto(data, self.target)

    async def receive(self, timeout: float = 2.0) -> Message:
        """The next datagram, parsed."""
        return parse(await self.raw(timeout))

    async def raw(self, timeout: float = 2.0) -> bytes:
        """The next datagram."""
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.sock_recv(self.sock, 65535), timeout)

    def options(self, branch: str) -> bytes:
        """An OPTIONS request."""
        return OPTIONS.format(port=self.port, branch=branch).encode()

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[PhoneSystem]:
    """A running system."""
    async with phone_system(tmp_path, rate=200) as running:
        yield running


@pytest.fixture
async def client(system: PhoneSystem) -> AsyncIterator[Client]:
    """A UDP client of it."""
    found = Client(system.port)
    yield found
    found.close()


async def test_options_is_answered_with_what_backline_allows_adp_5(client: Client) -> None:
    """ADP-5: OPTIONS → 200 with Allow listing INVITE, REFER, SUBSCRIBE."""
    client.send(client.options("a1"))
    answer = await client.receive()
    assert answer.status == 200
    assert answer.cseq == (1, "OPTIONS")
    assert {"INVITE", "BYE", "CANCEL", "REFER", "SUBSCRIBE"} <= {
        m.strip() for m in answer.get("Allow").split(",")
    }


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("CSeq: 1 OPTIONS", "CSeq: one OPTIONS"),
        ("CSeq: 1 OPTIONS", "CSeq: 1 INVITE"),
        ("To: <sip:backline@127.0.0.1>", "To: nowhere"),
        ("Content-Length: 0", "Content-Length: 99"),
        ("Max-Forwards: 70", "Max-Forwards: lots"),
    ],
)
async def test_a_malformed_request_gets_400_naming_the_problem_adp_5(
    client: Client, system: PhoneSystem, broken: str, reason: str
) -> None:
    """ADP-5: each broken header → 400 whose reason names it; the stack keeps serving."""
    data = client.options("b2").decode().replace(broken, reason).encode()
    client.send(data)
    status = (await client.raw()).decode().split("\r\n", 1)[0]  # it echoes the bad header
    assert status.startswith("SIP/2.0 400 ")
    header = reason.split(":", maxsplit=1)[0]
    assert header in status or "body shorter than Content-Length" in status, status
    client.send(client.options("b3"))
    assert (await client.receive()).status == 200
    assert system.adapter.stack.counts["malformed"] == 1


async def test_requests_in_an_unknown_dialog_get_481_adp_5(client: Client) -> None:
    """ADP-5: a BYE for a dialog backline never had → 481."""
    data = (
        client.options("c1")
        .decode()
        .replace("OPTIONS sip", "BYE sip")
        .replace("1 OPTIONS", "1 BYE")
        .replace("<sip:backline@127.0.0.1>", "<sip:backline@127.0.0.1>;tag=nope")
    )
    client.send(data.encode())
    answer = await client.receive()
    assert answer.status == 481


async def test_a_retransmitted_request_is_answered_from_its_transaction_adp_5(
    client: Client, system: PhoneSystem
) -> None:
    """ADP-5: the same OPTIONS twice → two identical answers, one transaction."""
    client.send(client.options("d1"))
    first = await client.receive()
    client.send(client.options("d1"))
    second = await client.receive()
    assert first.encode() == second.encode()
    assert len([k for k in system.adapter.stack.servers if k[0] == "z9hG4bKd1"]) == 1


class Still(Budget):
    """The configured budget on a clock that moves only when told: 600 datagrams arrive at
    one instant however long a busy machine takes to send them (no refill in between)."""

    now = 0.0

    def allow(self, host: str, now: float | None = None) -> bool:
        return super().allow(host, self.now)


async def test_a_flooding_source_is_dropped_after_one_503_and_others_are_served_adp_5(
    system: PhoneSystem, client: Client
) -> None:
    """ADP-5: 600 requests at once from one source → one 503 Retry-After, the rest dropped."""
    rate = system.adapter.config.rate
    budget = system.adapter.stack.budget = Still(rate=rate, burst=2 * rate)
    for i in range(600):
        client.send(client.options(f"f{i}"))
        if i % 50 == 49:
            await asyncio.sleep(0.01)  # within the socket buffers: the budget decides
    statuses: list[int] = []
    retry = ""
    while True:
        try:
            answer = await client.receive(0.5)
        except TimeoutError:
            break
        statuses.append(answer.status)
        retry = retry or answer.get("Retry-After")
    assert statuses.count(503) == 1, (len(statuses), system.adapter.stack.counts)
    assert retry == "5"
    assert statuses.count(200) == 2 * rate  # the burst (twice the rate), not the flood
    assert system.adapter.stack.counts["dropped"] >= 100
    budget.now = 1.0  # a second later the bucket has refilled
    other = Client(system.port)
    other.send(other.options("g1"))
    assert (await other.receive()).status == 200  # another source is still served
    other.close()


@given(st.binary(max_size=600))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_the_parser_raises_sip_error_or_parses_for_any_bytes_adp_5(data: bytes) -> None:
    """ADP-5: random bytes either parse or raise ``SipError`` — never anything else."""
    try:
        msg = parse(data)
    except SipError:
        return
    assert parse(msg.encode()).headers == msg.headers


PARTS = st.sampled_from([*'"<> \t;abc:@\\=,', "\n", "sip:", "\u00a0", "\x1c"])


@given(st.lists(PARTS, max_size=25).map("".join))
@settings(max_examples=2000, deadline=None)
def test_a_name_address_read_the_quick_way_is_what_the_grammar_reads_adp_5(value: str) -> None:
    """ADP-5: ``address`` (display name and URI of a From/To/Contact) reads the common
    forms without the regex; whatever the value, it gives what the full grammar gives."""
    assert address.__wrapped__(value) == grammar_address(value)
