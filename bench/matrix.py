"""Matrix gateway benchmark: a round trip through backline vs a direct one through Synapse.

Run as ``python bench/matrix.py [--rounds N] [--target R]``. It starts its own Synapse on
loopback (as the live tests do) with backline's appservice registered, and a real
``backline run`` process with ``[matrix]`` enabled. In the same run, through the same
Synapse, it times N ping-pong round trips

- directly: alice → a room → bob's client, which echoes → alice (the baseline);
- through backline: alice types ``!bl status`` at her desk (a DM with the bot), backline
  commits the command and answers in the DM; the round trip ends when alice reads it.

Both cross the homeserver twice (a client's send and a client's sync, or the appservice
push and send), so backline's own cost is what separates them. It prints both medians and
the ratio against the target (default 1.5); the exit code is 1 when the target is missed
or a round trip times out, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.synapse import (  # noqa: E402
    BacklineRun,
    Person,
    Synapse,
    matrix_rules,
    synapse_python,
)

TARGET = 1.5
TIMES = "\u00d7"
TIMEOUT = 10.0
CHUNK = 10
START_TIMEOUT = 60.0
BOT = "@backline:localhost"


def verdict(ratio: float, target: float) -> tuple[str, int]:
    """``("OK", 0)`` when the ratio meets the target, else ``("MISSED", 1)``."""
    return ("OK", 0) if ratio <= target else ("MISSED", 1)


class Echo:
    """bob answers ``ping N`` with ``pong N`` in the room it came from."""

    def __init__(self, bob: Person) -> None:
        self.bob = bob
        self.answered = 0

    async def run(self) -> None:
        while True:
            fresh = [r for r in self.bob.seen[self.answered :]]
            self.answered += len(fresh)
            for item in fresh:
                if item.sender != self.bob.user_id and item.body.startswith("ping "):
                    await self.bob.send(item.room_id, "pong " + item.body[5:])
            await asyncio.sleep(0.001)


async def timed(send: Callable[[int], Awaitable[None]], seen: Callable[[int], bool]) -> float:
    """Seconds from ``send(n)`` until ``seen(n)``."""
    n = time.perf_counter_ns()
    start = time.perf_counter()
    await send(n)
    deadline = start + TIMEOUT
    while not seen(n):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"round trip {n} timed out")
        await asyncio.sleep(0.0005)
    return time.perf_counter() - start


async def started(alice: Person, desk: str) -> None:
    """Wait until backline answers at the desk (``backline run`` may still be starting)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        mark = len(alice.seen)
        await alice.send(desk, "ready")
        try:
            await alice.wait_for("You are ready", desk, timeout=2)
            if any("You are ready" in r.body for r in alice.seen[mark:]):
                return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


async def measure(synapse: Synapse, rounds: int) -> tuple[list[float], list[float]]:
    """Round trips direct and through backline, alternating every ``CHUNK``."""
    alice = await Person.new(synapse, "alice")
    bob = await Person.new(synapse, "bob")
    echo = asyncio.create_task(Echo(bob).run())
    try:
        room = await alice.dm(bob.user_id)
        await bob.wait_invite()
        desk = await alice.dm(BOT, "Your backline desk")
        await started(alice, desk)

        async def direct_send(n: int) -> None:
            await alice.send(room, f"ping {n}")

        def direct_seen(n: int) -> bool:
            return any(r.body == f"pong {n}" for r in reversed(alice.seen))

        marks: dict[int, int] = {}

        async def relayed_send(n: int) -> None:
            marks[n] = len(alice.seen)
            await alice.send(desk, f"!bl status @bob {n}")

        def relayed_seen(n: int) -> bool:
            return any(r.sender == BOT and r.room_id == desk for r in alice.seen[marks[n] + 1 :])

        direct: list[float] = []
        relayed: list[float] = []
        for _ in range(2):  # warm up both paths
            await timed(direct_send, direct_seen)
            await timed(relayed_send, relayed_seen)
        for _ in range(max(1, rounds // CHUNK)):
            for _ in range(min(CHUNK, rounds)):
                direct.append(await timed(direct_send, direct_seen))
            for _ in range(min(CHUNK, rounds)):
                relayed.append(await timed(relayed_send, relayed_seen))
        return direct, relayed
    finally:
        echo.cancel()
        await asyncio.gather(alice.close(), bob.close(), return_exceptions=True)


async def run(rounds: int, folder: Path, python: Path) -> tuple[float, float]:
    """Median seconds, direct and through a ``backline run`` process."""
    synapse = Synapse(folder / "synapse", python)
    synapse.write_config()
    synapse.start()
    backline = BacklineRun(folder, synapse, synapse.as_port, rules=matrix_rules(folder))
    try:
        backline.start()
        direct, relayed = await measure(synapse, rounds)
    finally:
        backline.stop()
        synapse.stop()
    return statistics.median(direct), statistics.median(relayed)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=200, help="round trips of each kind")
    parser.add_argument("--target", type=float, default=TARGET, help="the ratio to meet")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    python = synapse_python()
    if python is None:
        print("Synapse is not installed (.venv-synapse); see .ci/run", file=sys.stderr)
        return 1
    print(f"matrix bench: {args.rounds} round trips each, Synapse and a backline run process")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
            direct, relayed = asyncio.run(run(args.rounds, Path(tmp), python))
    except TimeoutError as exc:
        print(f"verdict: FAIL ({exc})")
        return 1
    ratio = relayed / direct
    word, code = verdict(ratio, args.target)
    print(f"direct client → room → client median {direct * 1000:.1f} ms")
    print(f"relayed client → backline → client median {relayed * 1000:.1f} ms")
    print(f"ratio: {ratio:.2f}{TIMES} (target <= {args.target:g}) {word}")
    return code


if __name__ == "__main__":
    sys.exit(main())
