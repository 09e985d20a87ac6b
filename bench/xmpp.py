"""XMPP gateway benchmark: round trip member → backline → member vs member → member directly.

Run as ``python bench/xmpp.py [--rounds N] [--target R]``. It starts its own Prosody on
loopback (from the shipped manifest snippet, as the live tests do) and a real ``backline
run`` process whose ``[xmpp]`` component connects to it, then two members, alice and bob. In
the same run, through the same Prosody, it times N ping-pong round trips

- directly: alice → bob, bob echoes → alice (the baseline);
- through backline: alice writes in IM ``i1``'s contact, backline relays it to bob (a
  committed ``say`` command), bob answers in ``i1``, backline relays the answer to alice.

The relayed path crosses the server twice as often, so 2 is the floor of the ratio. After a
warm-up of each kind (not kept), the two kinds alternate in chunks of ``CHUNK`` round trips,
each pair in the other order than the last, so the machine's drifting load hits both alike.
It prints both medians with their spread (10th and 90th percentiles), the spread of the
ratio chunk by chunk, and the ratio of the medians against the target (default 2.5); the
exit code is 1 when the target is missed or a round trip times out, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live.backline_process import BacklineProcess  # noqa: E402
from tests.support.prosody import COMPONENT, Client, Prosody  # noqa: E402

TARGET = 2.5
TIMES = "\u00d7"
TIMEOUT = 5.0
CHUNK = 10  # round trips of one kind before switching to the other
WARM_UP = 5  # round trips of each kind first, not kept (at least; a tenth of the rounds)
START_TIMEOUT = 30.0
I1 = f"i1@{COMPONENT}"


class Echo:
    """Bob answers ``ping N`` with ``pong N`` to whoever sent it (a JID or the i1 contact)."""

    def __init__(self, client: Client) -> None:
        client.xmpp.add_event_handler("message", self.on_message)
        self.client = client

    def on_message(self, msg: object) -> None:
        body: str = msg["body"]  # type: ignore[index]
        if "ping " in body:
            reply_to = msg["from"].bare  # type: ignore[index]
            self.client.say(reply_to, "pong " + body.rsplit("ping ", 1)[1])


def verdict(ratio: float, target: float) -> tuple[str, int]:
    """``("OK", 0)`` when the ratio meets the target, else ``("MISSED", 1)``."""
    return ("OK", 0) if ratio <= target else ("MISSED", 1)


async def round_trips(alice: Client, to: str, rounds: int) -> list[float]:
    """Seconds per round trip: alice sends ``ping N`` to ``to`` and waits for ``pong N``."""
    times: list[float] = []
    for n in range(rounds):
        mark = alice.mark()
        start = time.perf_counter()
        alice.say(to, f"ping {n}")
        await alice.wait_for(
            lambda r, n=n: r.kind == "message" and r.body.endswith(f"pong {n}"),
            TIMEOUT,
            after=mark,
        )
        times.append(time.perf_counter() - start)
    return times


async def answered(client: Client, expect: str) -> None:
    """Ask the bot ``status`` until it answers (``backline run`` may still be starting)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        mark = client.mark()
        client.say(COMPONENT, "status")
        try:
            await client.wait_body(COMPONENT, expect, timeout=0.5, after=mark)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def chunks(rounds: int) -> list[int]:
    """Round trips of one kind per chunk: ``rounds`` in all, ``CHUNK`` at a time."""
    return [min(CHUNK, rounds - done) for done in range(0, rounds, CHUNK)]


def figure(times: Sequence[float]) -> str:
    """``median 1.500 ms (p10 1.234 · p90 2.345 ms)`` of round trips in seconds."""
    low, *_, high = statistics.quantiles(times, n=10, method="inclusive")
    ms = statistics.median(times) * 1000
    return f"median {ms:.3f} ms (p10 {low * 1000:.3f} · p90 {high * 1000:.3f} ms)"


@dataclass
class Samples:
    """Seconds per round trip of each kind, and each chunk pair's ratio of medians."""

    direct: list[float] = field(default_factory=list)
    relayed: list[float] = field(default_factory=list)
    pair_ratios: list[float] = field(default_factory=list)

    def add(self, direct: list[float], relayed: list[float]) -> None:
        """One chunk of each kind, measured back to back."""
        self.direct += direct
        self.relayed += relayed
        self.pair_ratios.append(statistics.median(relayed) / statistics.median(direct))


async def measure(server: Prosody, rounds: int) -> Samples:
    """Round trips direct and relayed after a warm-up, alternating chunk by chunk.

    Chunks alternate which kind goes first (direct-relayed, relayed-direct …), so drift in
    the machine's load and any order effect hit both kinds alike; the warm-up is not kept.
    """
    alice = await Client.online("alice@localhost", server.c2s_port)
    bob = await Client.online("bob@localhost", server.c2s_port)
    try:
        await answered(bob, "You are ready")
        await answered(alice, "You are ready")
        alice.say(COMPONENT, "im @bob benchmark")
        await bob.wait_body(I1, "wants to IM", TIMEOUT)
        bob.say(I1, "accept")
        await alice.wait_body(I1, "accepted", TIMEOUT)
        Echo(bob)
        warm = max(WARM_UP, rounds // 10)
        await round_trips(alice, "bob@localhost", warm)
        await round_trips(alice, I1, warm)
        samples = Samples()
        for n, size in enumerate(chunks(rounds)):
            if n % 2 == 0:
                direct = await round_trips(alice, "bob@localhost", size)
                relayed = await round_trips(alice, I1, size)
            else:
                relayed = await round_trips(alice, I1, size)
                direct = await round_trips(alice, "bob@localhost", size)
            samples.add(direct, relayed)
        return samples
    finally:
        await asyncio.gather(alice.close(), bob.close())


async def run(rounds: int, folder: Path) -> Samples:
    """Round trips direct and relayed through a ``backline run`` process."""
    server = Prosody(folder / "prosody")
    server.directory.mkdir(parents=True)
    server.write_config()
    for name in ("alice", "bob"):
        server.register(name)
    server.start()
    backline = BacklineProcess(folder, server)
    try:
        backline.start()
        return await measure(server, rounds)
    finally:
        backline.stop()
        server.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=400, help="round trips of each kind")
    parser.add_argument("--target", type=float, default=TARGET, help="the ratio to meet")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = max(2, args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-xmpp-") as tmp:
        try:
            samples = asyncio.run(run(rounds, Path(tmp)))
        except TimeoutError as exc:
            print(f"a round trip timed out: {exc}")
            return 1
    direct, relayed = statistics.median(samples.direct), statistics.median(samples.relayed)
    ratio = relayed / direct
    pairs = len(samples.pair_ratios)
    print(
        f"rounds: {rounds} of each kind after a warm-up, in {pairs} alternating chunks;"
        " same Prosody, same run, backline run process"
    )
    print(f"direct   member -> member             {figure(samples.direct)}")
    print(f"relayed  member -> backline -> member {figure(samples.relayed)}")
    if pairs > 1:
        low, *_, high = statistics.quantiles(samples.pair_ratios, n=10, method="inclusive")
        print(f"ratio by chunk: p10 {low:.2f}{TIMES} · p90 {high:.2f}{TIMES}")
    text, code = verdict(ratio, args.target)
    print(f"ratio: {ratio:.2f}{TIMES} (target <= {args.target:g}) {text}")
    return code


if __name__ == "__main__":
    sys.exit(main())
