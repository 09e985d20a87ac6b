"""Interaction benchmark: live-interaction cost, pauses, command latency against a baseline, memory.

Run as ``python bench/interactions.py [--live N] [--commands C] [--synchronous FULL]``
(defaults 10,000 / 20,000 / the shipped NORMAL); the issue's size is ``--live 50000``.

It writes a generated rules folder into a temporary directory (the shipped machines, policy
and triggers; a synthetic directory of agents in 20 groups plus a phone team; chat capacity
raised so the agents can hold N chats), opens a ``Core`` on a temporary SQLite file with
the shipped commit setting (WAL, ``synchronous=NORMAL``), then:

1. creates N live chats the way production does — a customer arrives (one transaction),
   the rung agent accepts (one command) — and reports the cost per 1,000 for the first and
   the last thousand, plus the cost of the kind machine's ``add_model``/``remove_model``
   alone with N models in it (INT-1: one machine, many models, flat cost);
2. runs C commands through ``core.handle`` — say, hold/resume on calls, consult → accept →
   end → done, transfer → accept → done → ready, list — and prints p50/p99 latency and
   commands/s next to a baseline measured in the same run: a bare ``transitions``
   ``AsyncMachine`` trigger on one model plus one SQLite INSERT committed with the same
   synchronous setting, one sample right after each command (interleaved, so a busy
   moment of a shared machine slows both alike and the ratio stays meaningful);
3. reads VmRSS before and after creating the N interactions (and counts the objects the
   garbage collector tracks) and projects the memory of 50,000 live interactions;
4. over creation and the load, watches pauses with ``bot.loop_watch.PauseWatch``: every
   garbage collection's duration (``gc.callbacks``) and the lag of a 10 ms loop probe.

Targets (issue 12), each printed with PASS/FAIL; the exit code is 1 when any is missed (or
a command ended in an internal error, or an interaction was lost):
- max pause (GC or loop lag) over creation and load < 100 ms (``--max-pause-ms``);
- RSS per live interaction < 8 KB (``--rss-kb``);
- p99 command < 3 times the baseline's p99 (``--p99-ratio``).
``--gc-thresholds`` and ``--gc-budget-ms`` run the same load under another collector policy
(``bot.heap``), to measure it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from transitions.extensions.asyncio import AsyncMachine  # noqa: E402

from bench.targets import TIMES, Target, verdict  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.events import Command  # noqa: E402
from bot.heap import HEAP  # noqa: E402
from bot.interaction.machines import InteractionMachine  # noqa: E402
from bot.interaction.model import Interaction  # noqa: E402
from bot.loop_watch import PauseWatch  # noqa: E402
from bot.port import Batch  # noqa: E402
from bot.rules.check import load_rules  # noqa: E402
from bot.storage import Store  # noqa: E402
from bot.storage.sqlite import Synchronous  # noqa: E402

GROUPS = 20
MAX_PAUSE_MS = 100.0
RSS_KB = 8.0  # per live interaction, 1 KB = 1,000 bytes
P99_RATIO = 3.0  # p99 command / p99 baseline
PROJECT_LIVE = 50_000
T = TypeVar("T")
SYNCHRONOUS: Synchronous = "NORMAL"  # as shipped: a reply survives a crash of backline
CHOICES: tuple[Synchronous, ...] = ("NORMAL", "FULL")  # FULL: it survives a power cut too


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(sorted_ns: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile of sorted samples, in ms."""
    if not sorted_ns:
        return 0.0
    rank = max(1, min(len(sorted_ns), math.ceil(pct / 100 * len(sorted_ns))))
    return sorted_ns[rank - 1] / 1e6


def block_size(live: int) -> int:
    """The first and last this many creations are timed (a thousand, or half of a small N)."""
    return max(1, min(1000, live // 2))


# -- the generated rules folder -------------------------------------------------------------


class Shape:
    """How big the synthetic contact centre is for N live chats."""

    def __init__(self, live: int) -> None:
        self.agents = max(40, min(2000, live // 5))
        self.phones = max(10, min(500, live // 50))  # voice agents, one call each
        self.capacity = 2 * math.ceil(live / self.agents) + 10

    def agent(self, index: int) -> str:
        return f"a{index:05d}"

    def group(self, index: int) -> str:
        return f"g{index:02d}"


def write_rules(folder: Path, shape: Shape) -> Path:
    """The shipped rules with a synthetic directory and the chat capacity raised."""
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    members = [
        {"id": shape.agent(i), "name": f"Agent {i}", "roles": ["agent"], "voice": f"2{i:05d}"}
        for i in range(shape.agents)
    ] + [
        {"id": f"p{i:04d}", "name": f"Phone {i}", "roles": ["agent"], "voice": f"3{i:04d}"}
        for i in range(shape.phones)
    ]
    groups = [
        {
            "id": shape.group(g),
            "name": f"Team {g}",
            "members": [shape.agent(i) for i in range(g, shape.agents, GROUPS)],
        }
        for g in range(GROUPS)
    ] + [{"id": "phones", "name": "Phones", "members": [f"p{i:04d}" for i in range(shape.phones)]}]
    directory = {"members": members, "groups": groups}
    (rules / "directory.yaml").write_text(yaml.safe_dump(directory), encoding="utf-8")
    policy_path = rules / "policy.yaml"
    policy = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
    policy["groups"] = {k: v for k, v in policy["groups"].items() if not isinstance(v, dict)}
    policy["routing"]["capacity"]["chat"] = shape.capacity
    policy_path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return rules


class Sink:
    """An adapter that reaches everyone and only counts (a real one would send)."""

    name = "sink"
    reaches_everyone = True

    def __init__(self) -> None:
        self.sent = 0
        self.batches = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, batch: Batch) -> None:
        self.batches += 1
        self.sent += len(batch.messages)


# -- the run -------------------------------------------------------------------------------


class Bench:
    def __init__(self, core: Core, clock: FakeClock, shape: Shape, rng: random.Random) -> None:
        self.core = core
        self.baseline: Baseline | None = None  # during the load: a sample after each command
        self.clock = clock
        self.shape = shape
        self.rng = rng
        self.errors: list[str] = []
        self.samples: list[int] = []
        self.chats: list[str] = []
        self.calls: list[str] = []

    async def command(self, member: str, text: str, context: str | None = None) -> str:
        start = time.perf_counter_ns()
        turn = await self.core.handle(Command("console", member, text, context=context))
        self.samples.append(time.perf_counter_ns() - start)
        if self.baseline is not None:
            await self.baseline.sample()
        if turn.outcome == "error":
            self.errors.append(f"@{member}: {text!r}: {turn.reply}")
        return turn.reply

    async def untimed(self, member: str, text: str, context: str | None = None) -> str:
        turn = await self.core.handle(Command("console", member, text, context=context))
        if turn.outcome == "error":
            self.errors.append(f"@{member}: {text!r}: {turn.reply}")
        return turn.reply

    async def everyone_ready(self) -> None:
        for member in self.core.directory.data.members:
            await self.untimed(member, "ready")

    async def arrive(self, kind: str, name: str, target: str) -> Interaction:
        """A customer arrives and the agent it rings accepts: one live interaction."""
        engine = self.core.engine

        async def work() -> Interaction:
            ix, _ = await engine.customers.arrive(kind, name, target, f"hello from {name}")
            return ix

        ix = await self.core.act(work)
        if ix.offer is None or not ix.offer.to:
            raise RuntimeError(f"{ix.id} rang nobody ({ix.state}); the directory is too small")
        await self.untimed(ix.offer.to[0], f"accept {ix.id}")
        if ix.state != "active":
            raise RuntimeError(f"{ix.id} is {ix.state} after accept")
        return ix

    async def create(self, live: int) -> tuple[float, float, float]:
        """N live chats; seconds for all, for the first and for the last thousand."""
        block = block_size(live)
        first = last = 0.0
        started = block_start = time.perf_counter()
        for i in range(live):
            ix = await self.arrive("chat", f"c{i}", f"group:{self.shape.group(i % GROUPS)}")
            self.chats.append(ix.id)
            done = i + 1
            if done == block:
                first = time.perf_counter() - block_start
            if done % 1000 == 0:
                await self.clock.advance(30)  # time passes: accepted offers' timers are gone
                progress(f"{done}/{live} live chats")
            if done == live - block:
                block_start = time.perf_counter()
        last = time.perf_counter() - block_start
        return time.perf_counter() - started, first, last

    async def create_calls(self) -> None:
        for i in range(self.shape.phones):
            ix = await self.arrive("voice", f"v{i}", "group:phones")
            self.calls.append(ix.id)

    # -- the mixed load -------------------------------------------------------------

    def owner(self, iid: str) -> str:
        owner = self.core.engine.live[iid].owner
        assert owner is not None
        return owner

    def colleague(self, me: str) -> str:
        """Another agent who can take a chat now (ready, under capacity, nothing ringing)."""
        router = self.core.engine.offers.router
        for _ in range(50):
            other = self.shape.agent(self.rng.randrange(self.shape.agents))
            if other != me and router.available(other):
                return other
        raise RuntimeError("no available colleague; raise the chat capacity")

    async def say(self) -> None:
        iid = self.rng.choice(self.chats)
        await self.command(self.owner(iid), f"say {iid} thanks for waiting")

    async def hold_resume(self) -> None:
        iid = self.rng.choice(self.calls)
        owner = self.owner(iid)
        await self.command(owner, f"hold {iid}")
        await self.command(owner, f"resume {iid}")

    async def consult(self) -> None:
        iid = self.rng.choice(self.chats)
        me = self.owner(iid)
        other = self.colleague(me)
        await self.command(me, f"consult @{other} chat", context=iid)
        cx = self.core.engine.offers.pending_for(other)
        if not cx:
            self.errors.append(f"consult from @{me} on {iid} rang nobody")
            return
        cid = cx[-1].id
        await self.command(other, f"accept {cid}")
        await self.command(me, f"say {cid} a question")
        await self.command(me, f"end {cid}")
        await self.command(me, f"done {cid}")
        await self.command(other, f"done {cid}")

    async def transfer(self) -> None:
        iid = self.rng.choice(self.chats)
        me = self.owner(iid)
        other = self.colleague(me)
        await self.command(me, f"transfer @{other}", context=iid)
        await self.command(other, f"accept {iid}")
        await self.command(me, f"done {iid}")
        await self.command(me, "ready")

    async def list_(self) -> None:
        await self.command(self.shape.agent(self.rng.randrange(self.shape.agents)), "list")

    async def load(self, commands: int) -> float:
        """Run the mix until ``commands`` commands were timed; returns seconds."""
        mix = (
            [self.say] * 6
            + [self.hold_resume] * 2
            + [self.consult, self.transfer]
            + [self.list_] * 2
        )
        start = time.perf_counter()
        step = max(1, commands // 10)
        mark = step
        while len(self.samples) < commands:
            await self.rng.choice(mix)()
            if len(self.samples) >= mark:
                progress(f"{len(self.samples)}/{commands} commands")
                mark += step
        return time.perf_counter() - start


# -- the baseline ------------------------------------------------------------------------


class Toggle:
    """A bare model for the baseline machine."""

    state: str


class Baseline:
    """Per sample: one AsyncMachine trigger on one model + one INSERT committed durably."""

    def __init__(self, folder: Path, synchronous: Synchronous) -> None:
        self.model = Toggle()
        AsyncMachine(
            model=self.model,
            states=["a", "b"],
            transitions=[
                {"trigger": "flip", "source": "a", "dest": "b"},
                {"trigger": "flip", "source": "b", "dest": "a"},
            ],
            initial="a",
            auto_transitions=False,
            send_event=True,
            queued="model",
        )
        self.conn = sqlite3.connect(folder / "baseline.db", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute(f"PRAGMA synchronous = {synchronous}")
        self.conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, at REAL, data TEXT)")
        self.samples: list[int] = []

    async def sample(self) -> None:
        """Time one trigger and one committed INSERT."""
        start = time.perf_counter_ns()
        await self.model.flip()  # type: ignore[attr-defined]
        self.conn.execute("BEGIN")
        self.conn.execute(
            "INSERT INTO events (at, data) VALUES (?, ?)", (float(len(self.samples)), '{"k": "v"}')
        )
        self.conn.execute("COMMIT")
        self.samples.append(time.perf_counter_ns() - start)

    def close(self) -> None:
        self.conn.close()


def machine_churn(core: Core, live: int) -> tuple[float, float]:
    """Seconds per 1,000 add_model+remove_model with no models and with ``live`` models in."""
    machine = InteractionMachine(core.engine.specs["chat"])
    journal = core.engine
    fresh = (Interaction(f"x{i}", "chat", 0.0, journal) for i in itertools.count())

    def churn() -> float:
        """The best of 5 rounds, garbage collection off (as ``timeit`` does)."""
        best = float("inf")
        for _ in range(5):
            batch = [next(fresh) for _ in range(1000)]  # each model is added once, as in the engine
            gc.disable()
            start = time.perf_counter()
            for m in batch:
                machine.add_model(m)
            for m in batch:
                machine.remove_model(m)
            best = min(best, time.perf_counter() - start)
            gc.enable()
        return best

    churn()  # warm-up
    empty = churn()
    for _ in range(live):
        machine.add_model(next(fresh))
    return empty, churn()


# -- main ------------------------------------------------------------------------------------


def thresholds(text: str) -> tuple[int, int, int]:
    """``5000,10,10`` → the three ``gc.set_threshold`` values."""
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 3:
        raise argparse.ArgumentTypeError("expected three numbers: GEN0,GEN1,GEN2")
    return values  # type: ignore[return-value]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--live", type=int, default=10_000, help="live chats to create")
    parser.add_argument("--commands", type=int, default=20_000, help="commands to time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--synchronous", choices=CHOICES, default=SYNCHRONOUS, help="SQLite commit setting"
    )
    parser.add_argument("--max-pause-ms", type=float, default=MAX_PAUSE_MS, help="target")
    parser.add_argument("--rss-kb", type=float, default=RSS_KB, help="target per live chat")
    parser.add_argument("--p99-ratio", type=float, default=P99_RATIO, help="target")
    parser.add_argument(
        "--gc-thresholds", type=thresholds, default=HEAP.thresholds, help="GEN0,GEN1,GEN2"
    )
    parser.add_argument(
        "--gc-budget-ms",
        type=float,
        default=HEAP.budget * 1000,
        help="a full collection longer than this freezes its survivors (inf: never)",
    )
    return parser.parse_args(argv)


def tracked() -> int:
    """Objects the garbage collector tracks, frozen ones included."""
    return len(gc.get_objects()) + gc.get_freeze_count()


async def watched(phase: str, core: Core, work: Awaitable[T]) -> tuple[T, PauseWatch]:
    """Run ``work`` with the GC and loop-lag probes on; print the worst of each."""
    watch = PauseWatch(core.metrics)
    watch.start()
    try:
        result = await work
    finally:
        await watch.stop()
    by_generation = ", ".join(
        f"{g}: {seconds * 1000:.1f}" for g, seconds in sorted(watch.worst_by_generation.items())
    )
    print(
        f"pauses during {phase}: max GC {watch.worst_gc * 1000:.1f} ms,"
        f" max loop lag {watch.worst_lag * 1000:.1f} ms"
        f" (max GC by generation, ms: {by_generation or 'none'})"
    )
    return result, watch


async def run(args: argparse.Namespace, folder: Path) -> int:
    HEAP.thresholds, HEAP.budget = args.gc_thresholds, args.gc_budget_ms / 1000
    shape = Shape(args.live)
    rules = write_rules(folder, shape)
    clock = FakeClock()
    sync: Synchronous = args.synchronous
    core = Core(Store(folder / "bench.db", synchronous=sync), clock, load_rules(rules))
    sink = Sink()
    core.delivery.attach(sink)
    bench = Bench(core, clock, shape, random.Random(args.seed))
    print(
        f"setup: {shape.agents} chat agents in {GROUPS} groups + {shape.phones} phone agents,"
        f" chat capacity {shape.capacity}; store synchronous={sync} (WAL)"
    )
    print(
        f"gc: thresholds {gc.get_threshold()}, a full collection over"
        f" {HEAP.budget * 1000:g} ms freezes its survivors"
    )
    progress("everyone ready")
    await bench.everyone_ready()
    progress(f"{shape.phones} calls")
    await bench.create_calls()

    gc.collect()
    rss_before, objects_before = rss_bytes(), tracked()
    progress(f"creating {args.live} live chats (arrive + accept, one transaction each)")
    (total, first, last), creating = await watched("creation", core, bench.create(args.live))
    gc.collect()
    rss_after, objects_after = rss_bytes(), tracked()
    live = len(core.engine.live)
    block = block_size(args.live)
    ratio = last / first if first else float("inf")
    print(
        f"create: {args.live} live chats in {total:.1f} s = {args.live / total:,.0f}/s"
        f" ({live} live interactions in all)"
    )
    print(
        f"add cost: first {block} {first * 1000 / block:.3f} ms each,"
        f" last {block} {last * 1000 / block:.3f} ms each; last/first {ratio:.2f}{TIMES}"
    )
    empty, full = machine_churn(core, live)
    print(
        f"machine add+remove per 1000: {empty * 1000:.2f} ms with 0 models,"
        f" {full * 1000:.2f} ms with {live} models; ratio {full / max(empty, 1e-9):.2f}{TIMES}"
    )

    progress(f"running {args.commands} mixed commands, each followed by a baseline sample")
    base_run = Baseline(folder, sync)
    bench.baseline = base_run
    seconds, loading = await watched("load", core, bench.load(args.commands))
    bench.baseline = None
    base_run.close()
    ours = sorted(bench.samples)
    p50, p99 = percentile(ours, 50), percentile(ours, 99)
    print(
        f"commands: {len(ours)} in {seconds:.1f} s = {len(ours) / seconds:,.0f} commands/s;"
        f" p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {ours[-1] / 1e6:.3f} ms"
    )
    base = sorted(base_run.samples)
    b50, b99 = percentile(base, 50), percentile(base, 99)
    print(
        f"baseline (AsyncMachine trigger + INSERT, synchronous={sync}):"
        f" p50 {b50:.3f} ms, p99 {b99:.3f} ms ({len(base)} samples, one after each command)"
    )
    p99_ratio = p99 / max(b99, 1e-9)
    print(f"ratio: p50 {p50 / max(b50, 1e-9):.2f}{TIMES}, p99 {p99_ratio:.2f}{TIMES} the baseline")

    per = (rss_after - rss_before) / args.live
    projected = rss_before + per * PROJECT_LIVE
    mib = 1 << 20
    print(
        f"memory: RSS {rss_before / mib:.1f} MiB before, {rss_after / mib:.1f} MiB after"
        f" {args.live} live chats = {per:,.0f} bytes per live interaction"
    )
    print(f"projection: {PROJECT_LIVE} live interactions = {projected / mib:,.1f} MiB")
    print(
        f"gc: {(objects_after - objects_before) / args.live:.1f} tracked objects per live"
        f" interaction; {gc.get_freeze_count():,} frozen; {HEAP.freezes} over-budget full"
        " collections froze their survivors"
    )
    print(f"messages sent: {sink.sent} in {sink.batches} batches")

    lost = args.live + shape.phones - live
    core.store.close()
    pause = max(creating.worst_gc, creating.worst_lag, loading.worst_gc, loading.worst_lag)
    code = verdict(
        [
            Target("max pause over creation and load", pause * 1000, args.max_pause_ms, "ms", 1),
            Target("RSS per live interaction", per / 1000, args.rss_kb, "KB"),
            Target("p99 command / baseline p99", p99_ratio, args.p99_ratio, TIMES),
        ]
    )
    if bench.errors or lost:
        print(f"ERRORS: {len(bench.errors)} internal errors, {lost} interactions lost")
        print("\n".join(bench.errors[:20]))
        return 1
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backline-bench-") as tmp:
        return asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
