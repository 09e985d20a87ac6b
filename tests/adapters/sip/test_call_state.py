"""What the adapter keeps per call is let go once the call is over (ADP-5).

Calls handled must not leave state behind, or every later call pays for the earlier ones
(a table walked per change, timers piling up in the loop). Forty SIPp callers dial
``sales``; three agents' phones (one SIPp) answer; each caller hangs up. Once the calls
are over and the transactions' RFC 3261 timers have run out, the adapter's own report of
what it holds (``SipAdapter.held``: dialogs and their lookups, calls followed, RTP legs,
transactions, timers, tasks…) is back to nothing, while during the calls it was not.

An INVITE retransmitted after our 2xx (its 2xx was lost) is absorbed by its transaction
(RFC 6026 "Accepted"): no second ``100 Trying``, no second call; the 2xx reaches the caller
again by the dialog's own retransmission until the ACK.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from adapters.sip.message import Message, parse
from tests.adapters.sip.harness import PhoneSystem, phone_system
from tests.adapters.sip.lines import register, until
from tests.support.sipp import Sipp

CALLS = 40
AGENTS = {"alice": "1001", "bob": "1002", "chen": "1003"}


async def agents_answer(system: PhoneSystem, tmp_path: Path, calls: int) -> Sipp:
    """The three agents are ready on one SIPp phone that answers every call."""
    phone = Sipp(tmp_path / "phones")
    await phone.start("phone_answers", None, "-m", str(10 * calls), "-l", str(calls))
    for member, extension in AGENTS.items():
        await register(system, tmp_path, extension, phone.port)
        await system.type(member, "ready")
    return phone


def accepted(system: PhoneSystem) -> list[str]:
    """The accepts the agents' phones made, as stored."""
    return [str(e["text"]) for e in system.events("command") if e["platform"] == "sip"]


async def test_calls_handled_and_ended_leave_no_per_call_state_behind_adp_5(
    tmp_path: Path,
) -> None:
    """ADP-5: 40 calls answered and hung up → every per-call table and timer back to zero."""
    async with phone_system(tmp_path, rate=100_000) as system:
        phone = await agents_answer(system, tmp_path, CALLS)
        most: dict[str, int] = {}
        done = asyncio.Event()

        async def watch() -> None:
            while not done.is_set():
                for kind, size in system.adapter.held().items():
                    most[kind] = max(most.get(kind, 0), size)
                await asyncio.sleep(0.005)

        watcher = asyncio.ensure_future(watch())
        callers = Sipp(tmp_path / "callers")
        outcome = await callers.run(
            "caller_bench", system.target, "-s", "sales",
            "-m", str(CALLS), "-r", "20", "-l", "3", timeout=90,
        )  # fmt: skip
        done.set()
        await watcher
        assert outcome.ok, outcome.output[-3000:] + callers.errors()
        await system.settled()
        assert len(accepted(system)) == CALLS
        for kind in ("dialogs", "calls followed", "rtp legs", "server transactions", "timers"):
            assert most[kind] > 0, (kind, most)  # what is checked below was in use
        await until(lambda: not any(system.adapter.held().values()), timeout=30)
        assert system.adapter.held() == dict.fromkeys(most, 0)
        phone.stop()
        await phone.wait(5)


REQUEST = (
    "{method} sip:sales@127.0.0.1:{target} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch}\r\n"
    'From: "Ann" <sip:ann@127.0.0.1:{port}>;tag=ann1\r\n'
    "To: {to}\r\n"
    "Call-ID: retransmitted-1@127.0.0.1\r\n"
    "CSeq: {cseq} {method}\r\n"
    "Contact: <sip:ann@127.0.0.1:{port}>\r\n"
    "Max-Forwards: 70\r\n"
    "{sdp}"
)
SDP = (
    "Content-Type: application/sdp\r\n\r\n"
    "v=0\r\no=ann 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class Caller:
    """A caller on plain UDP sockets: its requests, what comes back, and its audio port."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the audio lands here
        self.rtp.bind(("127.0.0.1", 0))

    def close(self) -> None:
        """Close both sockets."""
        self.sock.close()
        self.rtp.close()

    async def receive(self, timeout: float = 5.0) -> Message:
        """The next message."""
        loop = asyncio.get_running_loop()
        return parse(await asyncio.wait_for(loop.sock_recv(self.sock, 65535), timeout))

    async def final(self) -> Message:
        """The next final response (provisional ones skipped)."""
        while (answer := await self.receive()).status < 200:
            pass
        return answer

    def send(self, target: int, method: str, cseq: int, branch: str, to: str = "") -> None:
        """A request of Ann's call (an INVITE with its SDP) to backline at ``target``."""
        to = to or f"<sip:sales@127.0.0.1:{target}>"
        sdp = SDP.format(port=self.rtp.getsockname()[1]) if method == "INVITE" else "\r\n"
        text = REQUEST.format(
            method=method, target=target, port=self.port, branch=branch, to=to, cseq=cseq, sdp=sdp
        )
        self.sock.sendto(text.encode(), ("127.0.0.1", target))


async def test_an_invite_retransmitted_after_our_2xx_is_absorbed_not_tried_again_adp_5(
    tmp_path: Path,
) -> None:
    """ADP-5 (RFC 6026): the same INVITE after our 200 → no 100 Trying, the 200 again, one
    call; the ACK and BYE then end it."""
    async with phone_system(tmp_path, rate=100_000) as system:
        phone = await agents_answer(system, tmp_path, 1)
        caller = Caller()
        caller.send(system.port, "INVITE", 1, "invite1")
        ok = await caller.final()
        assert ok.status == 200 and ok.to_tag
        caller.send(system.port, "INVITE", 1, "invite1")  # as if our 200 had been lost
        again = await caller.receive()
        assert (again.status, again.to_tag, again.body) == (200, ok.to_tag, ok.body)
        caller.send(system.port, "ACK", 1, "ack1", to=ok.get("To"))
        caller.send(system.port, "BYE", 2, "bye1", to=ok.get("To"))
        assert (await caller.final()).cseq == (2, "BYE")
        await system.settled()
        assert [e["customer"] for e in system.events("created")] == ["Ann"]  # one call
        assert accepted(system) == ["accept i1"]
        caller.close()
        phone.stop()
        await phone.wait(5)
