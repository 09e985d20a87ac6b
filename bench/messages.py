"""My Messages benchmark: the first page of a full inbox against a bare SELECT (MSG-1).

Run as ``python bench/messages.py [--messages N] [--runs R]``.

It opens a Core on the shipped rules and a temporary SQLite file, raises N system messages
for one member through ``Inbox.raise_message`` (batches, one transaction each, as the
product raises them; most of them read), then times the ``messages`` command through
``Core.handle`` (parse, authorize, transaction, event log, reply) against a plain
``SELECT … FROM inbox WHERE member_id = ? ORDER BY id DESC LIMIT 10`` on the same
database. The first page's p99 must stay under 20 ms (``--target-ms``): the verdict is
printed, and the exit code is 1 when the target is missed or the command's first page
differs from what the SELECT returns.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.targets import Target, verdict  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.events import Command  # noqa: E402
from bot.outbound import Priority  # noqa: E402
from bot.port import Batch  # noqa: E402

TARGET_MS = 20.0
MEMBER = "alice"
KINDS = ("broadcast", "adapter", "escalate", "system")
PRIORITIES = (Priority.NORMAL, Priority.NORMAL, Priority.LOW, Priority.HIGH, Priority.URGENT)
BASELINE = (
    "SELECT id, type, priority, at, text, status FROM inbox WHERE member_id = ?"
    " ORDER BY id DESC LIMIT 10"
)
LISTED_ID = re.compile(r"^  #(\d+) ", re.MULTILINE)


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def percentile(sorted_ns: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile of sorted samples, in ms."""
    rank = max(1, min(len(sorted_ns), math.ceil(pct / 100 * len(sorted_ns))))
    return sorted_ns[rank - 1] / 1e6


@dataclass(frozen=True)
class Stats:
    n: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[int]) -> Stats:
        s = sorted(samples)
        return cls(len(s), percentile(s, 50), percentile(s, 99), s[-1] / 1e6)

    def row(self, label: str) -> str:
        return f"  {label:<34} {self.n:>5} {self.p50:>8.3f} {self.p99:>8.3f} {self.max:>8.3f}"


HEADER = f"  {'what':<34} {'n':>5} {'p50':>8} {'p99':>8} {'max':>8}  (ms)"


class Discard:
    """An adapter that reaches everyone and drops the previews (no platform in a bench)."""

    name = "bench"
    reaches_everyone = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, batch: Batch) -> None:
        return None


async def fill(core: Core, count: int, batch: int, *, first: int = 0) -> None:
    """Raise ``count`` messages for MEMBER, ``batch`` per transaction."""
    done = 0
    while done < count:
        size = min(batch, count - done)
        start = first + done

        async def raise_batch(start: int = start, size: int = size) -> None:
            for n in range(start, start + size):
                core.inbox.raise_message(
                    [MEMBER],
                    f"bench message {n}: queue support has {n % 17} waiting",
                    kind=KINDS[n % len(KINDS)],
                    priority=PRIORITIES[n % len(PRIORITIES)],
                )

        await core.act(raise_batch)
        done += size


async def build(core: Core, count: int, batch: int) -> None:
    """Most of the inbox read, the newest tenth still new (as a real inbox looks)."""
    old = count - count // 10
    started = time.perf_counter()
    progress(f"raising {count} messages for @{MEMBER} in batches of {batch}")
    await fill(core, old, batch)

    async def read_all() -> None:
        core.inbox.read_all(MEMBER)

    await core.act(read_all)
    await fill(core, count - old, batch, first=old)
    seconds = time.perf_counter() - started
    print(
        f"inbox: {count} messages for @{MEMBER} ({core.inbox.unread(MEMBER)} new),"
        f" raised in {seconds:.2f} s"
    )


async def time_runs(run: Callable[[], Awaitable[object]], runs: int) -> list[int]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        await run()
        samples.append(time.perf_counter_ns() - start)
    return samples


async def bench(core: Core, runs: int) -> tuple[Stats, Stats, bool]:
    conn = core.store.conn
    replies: list[str] = []

    async def command() -> object:
        turn = await core.handle(Command("console", MEMBER, "messages"))
        replies.append(turn.reply)
        return turn

    async def baseline() -> object:
        return conn.execute(BASELINE, (MEMBER,)).fetchall()

    warmup = max(10, runs // 10)
    progress(f"warming up ({warmup} runs each)")
    await time_runs(command, warmup)
    await time_runs(baseline, warmup)
    progress(f"timing {runs} runs of `messages`, then {runs} of the baseline SELECT")
    ours = Stats.of(await time_runs(command, runs))
    theirs = Stats.of(await time_runs(baseline, runs))
    print(f"first page ({core.policy.messages.page_size} per page), {runs} runs each:")
    print(HEADER)
    print(ours.row("`messages` through Core.handle"))
    print(theirs.row("baseline SELECT … LIMIT 10"))
    print(
        f"ratio (messages / baseline): p50 {ours.p50 / max(theirs.p50, 1e-6):.1f}x,"
        f" p99 {ours.p99 / max(theirs.p99, 1e-6):.1f}x"
    )
    expected = [row[0] for row in conn.execute(BASELINE, (MEMBER,))]
    size = core.policy.messages.page_size
    listed = [int(n) for n in LISTED_ID.findall(replies[-1])]
    same = listed == expected[:size] and all(r == replies[-1] for r in replies)
    print(f"first page lists the {size} newest ids: {'PASS' if same else 'FAIL'}")
    return ours, theirs, same


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="backline-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        core = Core.open(ROOT / "rules", path, FakeClock())
        core.delivery.attach(Discard())
        try:
            await build(core, args.messages, args.batch)
            wal = path.with_name(path.name + "-wal")
            size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
            print(f"database: {size / 1e6:.1f} MB")
            ours, _, same = await bench(core, args.runs)
        finally:
            core.store.close()
    code = verdict([Target("first page p99", ours.p99, args.target_ms, "ms")])
    return code if same else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="first page p99")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.runs < 1 or args.batch < 1:
        parser.error("--messages, --runs and --batch must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
