"""SIP call-setup benchmark: SIPp callers through backline's engine vs SIPp's own ``uas``.

Run as ``python bench/sip.py [--calls N] [--baseline-calls M] [--rate R] [--target X]
[--media]``. In one run, always in this order, with the same SIPp caller settings (offered
at R calls/s, at most three at once):

- baseline: M SIPp callers (``caller_bench.xml``, each from its own number) call SIPp's
  built-in ``uas`` directly;
- through backline: N callers dial ``sales``; each call is committed (the caller's
  arrival), offered by the engine to one of three ready agents, rung on their registered
  phone (one SIPp, ``phone_answers.xml``, answers for all three), accepted (a committed
  command), bridged, hung up by the caller (committed) and hung up on the phone.

Each rate is measured over a steady window: SIPp's own statistics (dumped every second),
from the first dump after a one-second warm-up to the last one while calls were still
being offered (a run too short for two such dumps is timed whole, and says so), with the
rates of its first and last second (a rate that falls as calls pile up shows). Next to
the rates it prints the backline process's CPU time per call and, per call, the SIP
messages it received and sent, the engine's commands and the SQL statements and commits.
The target is backline reaching at least 25 % of SIPp's rate, i.e. SIPp's rate over
backline's below 4 (``--target``). Calls that fail on either side fail the run. ``--media``
also runs the mixer benchmark (``bench/sip_media.py``: 100 three-party conferences within
one core, p99 jitter < 5 ms). The exit code is 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.targets import TIMES, Target, verdict  # noqa: E402
from tests.adapters.sip.harness import PhoneSystem, password, phone_system  # noqa: E402
from tests.support.sipp import Sipp  # noqa: E402

TARGET = 4.0  # SIPp's rate / backline's: backline at 25 % of SIPp or better
AGENTS = {"alice": "1001", "bob": "1002", "chen": "1003"}
WARM_UP = 1.0
"""Seconds of each run left out of its rate."""


@dataclass(frozen=True)
class Rate:
    """Calls per second, and over what span they were counted."""

    per_second: float
    calls: int
    seconds: float
    steady: bool
    """Counted over SIPp's steady-state dumps; else the whole run, start-up included."""
    first: float = 0.0
    last: float = 0.0
    """Calls per second in the window's first and last intervals (a rate that falls as
    calls pile up shows here)."""

    def describe(self) -> str:
        """``612.3 calls/s (1,840 calls over 3.00 s, steady: 640.1 in its first second, …)``."""
        if not self.steady:
            span = "whole run"
        else:
            span = f"steady: {self.first:.1f} in its first second, {self.last:.1f} in its last"
        return (
            f"{self.per_second:8.1f} calls/s ({self.calls:,} calls over"
            f" {self.seconds:.2f} s, {span})"
        )


@dataclass(frozen=True)
class Costs:
    """What the backline process spent on its calls, per call."""

    cpu_ms: float
    received: float
    sent: float
    commands: float
    statements: float
    commits: float


def steady_rate(stats: Path, calls: int, took: float) -> Rate:
    """The rate over SIPp's statistics dumps (``-trace_stat``), warm-up and tail left out."""
    text = stats.read_text(encoding="utf-8") if stats.exists() else ""
    rows = [line.split(";") for line in text.splitlines() if line]
    if len(rows) > 1:
        header, rows = rows[0], rows[1:]
        at, created = header.index("CurrentTime"), header.index("TotalCallCreated")
        done = header.index("SuccessfulCall(C)")
        points = [(float(r[at].split("\t")[-1]), int(r[created]), int(r[done])) for r in rows]
        start = points[0][0] + WARM_UP
        window = [(t, ok) for t, made, ok in points if t >= start and made < calls]
        if len(window) >= 2 and window[-1][1] > window[0][1]:
            (t0, ok0), (t1, ok1) = window[0], window[-1]
            first, last = _per_second(*window[:2]), _per_second(*window[-2:])
            return Rate((ok1 - ok0) / (t1 - t0), ok1 - ok0, t1 - t0, True, first, last)
    return Rate(calls / took, calls, took, steady=False)


def _per_second(start: tuple[float, int], end: tuple[float, int]) -> float:
    """Calls completed per second between two statistics dumps ``(time, calls so far)``."""
    return (end[1] - start[1]) / max(end[0] - start[0], 1e-9)


async def timed_calls(sipp: Sipp, target: str, calls: int, rate: int, *extra: str) -> Rate:
    """Play ``calls`` SIPp callers against ``target``; the rate they achieved."""
    stats = sipp.directory / "stats.csv"
    start = time.perf_counter()
    outcome = await sipp.run(
        "caller_bench",
        target,
        *extra,
        *("-m", str(calls), "-r", str(rate), "-l", "3"),
        *("-trace_stat", "-stf", str(stats), "-fd", "1"),
        timeout=300,
    )
    took = time.perf_counter() - start
    if not outcome.ok:
        raise SystemExit(f"SIPp calls failed:\n{outcome.output[-3000:]}\n{sipp.errors()[-2000:]}")
    return steady_rate(stats, calls, took)


async def baseline(directory: Path, calls: int, rate: int) -> Rate:
    """SIPp callers → SIPp ``uas``."""
    uas = Sipp(directory / "uas")
    await uas.start("uas", None, "-m", str(calls), "-l", str(calls))
    try:
        await asyncio.sleep(0.3)
        callers = Sipp(directory / "callers-baseline")
        return await timed_calls(callers, f"127.0.0.1:{uas.port}", calls, rate, "-s", "sales")
    finally:
        uas.stop()
        await uas.wait(5)


async def register_agents(system: PhoneSystem, directory: Path, phone: Sipp) -> None:
    """The three agents' phones (one SIPp) register, and the agents are ready."""
    for member, extension in AGENTS.items():
        reg = Sipp(directory / f"reg-{extension}")
        fields = reg.fields(f"{extension};;{phone.port}")
        credentials = ("-au", extension, "-ap", password(extension))
        outcome = await reg.run("register", system.target, "-inf", str(fields), *credentials)
        if not outcome.ok:
            raise SystemExit(f"registration failed:\n{outcome.output[-2000:]}")
        await system.type(member, "ready")


class Statements:
    """The SQL statements the store runs (``sqlite3`` trace callback), counted afterwards.

    The callback is a list's ``append``: no Python frame per statement in the timed run.
    """

    def __init__(self) -> None:
        self.run: list[str] = []

    @property
    def statements(self) -> int:
        """Statements run."""
        return len(self.run)

    @property
    def commits(self) -> int:
        """Commits among them."""
        return sum(1 for sql in self.run if sql.lstrip().upper().startswith("COMMIT"))


async def through_backline(directory: Path, calls: int, rate: int) -> tuple[Rate, Costs, int]:
    """SIPp callers → backline (engine, commits) → SIPp phones: rate, costs, calls accepted."""
    async with phone_system(directory / "backline", rate=100_000) as system:
        phone = Sipp(directory / "phones")
        # a re-offered call rings a phone again: the phones take more INVITEs than calls
        await phone.start("phone_answers", None, "-m", str(10 * calls), "-l", str(calls))
        try:
            await register_agents(system, directory, phone)
            counts = system.adapter.stack.counts
            received, sent = counts["received"], counts["sent"]
            commands = len(system.events("command"))
            sql = Statements()
            system.core.store.conn.set_trace_callback(sql.run.append)
            cpu = time.process_time()
            achieved = await timed_calls(
                Sipp(directory / "callers"), system.target, calls, rate, "-s", "sales"
            )
            await system.settled()
            cpu = time.process_time() - cpu
            system.core.store.conn.set_trace_callback(None)
        finally:
            phone.stop()
            await phone.wait(5)
        commands = len(system.events("command")) - commands
        costs = Costs(
            cpu_ms=1000 * cpu / calls,
            received=(counts["received"] - received) / calls,
            sent=(counts["sent"] - sent) / calls,
            commands=commands / calls,
            statements=sql.statements / calls,
            commits=sql.commits / calls,
        )
        accepted = [e for e in system.events("command") if str(e["text"]).startswith("accept")]
        return achieved, costs, len(accepted)


async def measure(calls: int, baseline_calls: int, rate: int) -> tuple[Rate, Rate, Costs, int]:
    """Both rates, backline's costs per call, and how many calls its agents accepted."""
    with tempfile.TemporaryDirectory(prefix="bench-sip-") as tmp:
        directory = Path(tmp)
        sipp_rate = await baseline(directory, baseline_calls, rate)
        backline_rate, costs, accepted = await through_backline(directory, calls, rate)
    return sipp_rate, backline_rate, costs, accepted


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1500, help="calls through backline")
    parser.add_argument("--baseline-calls", type=int, default=4000, help="calls to SIPp's uas")
    parser.add_argument("--rate", type=int, default=1000, help="calls/s SIPp offers (its top)")
    parser.add_argument("--target", type=float, default=TARGET, help="max SIPp/backline ratio")
    parser.add_argument("--media", action="store_true", help="also the mixer benchmark")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, and return the verdict's exit code."""
    args = parse_args(argv)
    sipp, backline, costs, accepted = asyncio.run(
        measure(args.calls, args.baseline_calls, args.rate)
    )
    print(f"calls offered at {args.rate}/s, at most 3 at once, SIPp callers on loopback")
    print(f"  SIPp callers -> SIPp uas (baseline)  {sipp.describe()}")
    print(f"  SIPp callers -> backline -> phones   {backline.describe()}")
    print(f"  calls accepted by agents through the engine: {accepted} of {args.calls}")
    print(
        f"  backline process per call: {costs.cpu_ms:.2f} ms CPU,"
        f" SIP messages {costs.received:.1f} in / {costs.sent:.1f} out,"
        f" {costs.commands:.1f} engine commands,"
        f" {costs.statements:.1f} SQL statements, {costs.commits:.1f} commits"
    )
    ratio = sipp.per_second / backline.per_second
    print(f"backline reaches {100 / ratio:.0f} % of SIPp's rate")
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"host: {os.cpu_count()} cores, load average {load}")
    targets = [Target("SIPp rate / backline rate", ratio, args.target, TIMES)]
    if accepted != args.calls:
        targets.append(Target("calls not taken by an agent", args.calls - accepted, 1, "", 0))
    if args.media:
        from bench import sip_media

        result = sip_media.measure()
        sip_media.report(result)
        targets += sip_media.targets(result)
    return verdict(targets)


if __name__ == "__main__":
    sys.exit(main())
