"""SIP call-setup benchmark: SIPp callers through backline's engine vs SIPp's own ``uas``.

Run as ``python bench/sip.py [--calls N] [--rate R] [--target X] [--media]``. In one run,
with the same SIPp caller settings (N calls offered at R calls/s, at most three at once):

- baseline: SIPp callers (``caller_bench.xml``, each from its own number) call SIPp's
  built-in ``uas`` directly;
- through backline: the same callers dial ``sales``; each call is committed (the caller's
  arrival), offered by the engine to one of three ready agents, rung on their registered
  phone (one SIPp, ``phone_answers.xml``, answers for all three), accepted (a committed
  command), bridged, hung up by the caller (committed) and hung up on the phone.

It prints both rates and their ratio; the target is backline reaching at least 25 % of
SIPp's rate, i.e. SIPp's rate over backline's below 4 (``--target``). Calls that fail on
either side fail the run. ``--media`` also runs the media side's mixer benchmark
(``bench/sip_media.py``: 100 three-party conferences within one core, p99 jitter < 5 ms).
The exit code is 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.targets import TIMES, Target, verdict  # noqa: E402
from tests.adapters.sip.harness import PhoneSystem, password, phone_system  # noqa: E402
from tests.support.sipp import Sipp  # noqa: E402

TARGET = 4.0  # SIPp's rate / backline's: backline at 25 % of SIPp or better
AGENTS = {"alice": "1001", "bob": "1002", "chen": "1003"}


async def timed_calls(sipp: Sipp, target: str, calls: int, rate: int, *extra: str) -> float:
    """Play ``calls`` SIPp callers against ``target``; calls per second achieved."""
    start = time.perf_counter()
    outcome = await sipp.run(
        "caller_bench", target, *extra, "-m", str(calls), "-r", str(rate), "-l", "3", timeout=120
    )
    took = time.perf_counter() - start
    if not outcome.ok:
        raise SystemExit(f"SIPp calls failed:\n{outcome.output[-3000:]}\n{sipp.errors()[-2000:]}")
    return calls / took


async def baseline(directory: Path, calls: int, rate: int) -> float:
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


async def through_backline(directory: Path, calls: int, rate: int) -> tuple[float, int]:
    """SIPp callers → backline (engine, commits) → SIPp phones; the rate, calls accepted."""
    async with phone_system(directory / "backline", rate=100_000) as system:
        phone = Sipp(directory / "phones")
        # a re-offered call rings a phone again: the phones take more INVITEs than calls
        await phone.start("phone_answers", None, "-m", str(10 * calls), "-l", str(calls))
        try:
            await register_agents(system, directory, phone)
            achieved = await timed_calls(
                Sipp(directory / "callers"), system.target, calls, rate, "-s", "sales"
            )
            await system.settled()
        finally:
            phone.stop()
            await phone.wait(5)
        accepted = [e for e in system.events("command") if str(e["text"]).startswith("accept")]
        return achieved, len(accepted)


async def measure(calls: int, rate: int) -> tuple[float, float, int]:
    """Both rates (calls/s) and how many calls the engine's agents accepted."""
    with tempfile.TemporaryDirectory(prefix="bench-sip-") as tmp:
        directory = Path(tmp)
        sipp_rate = await baseline(directory, calls, rate)
        backline_rate, accepted = await through_backline(directory, calls, rate)
    return sipp_rate, backline_rate, accepted


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=int, default=1000, help="calls/s SIPp offers (its top)")
    parser.add_argument("--target", type=float, default=TARGET, help="max SIPp/backline ratio")
    parser.add_argument("--media", action="store_true", help="also the mixer benchmark")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, and return the verdict's exit code."""
    args = parse_args(argv)
    sipp_rate, backline_rate, accepted = asyncio.run(measure(args.calls, args.rate))
    print(
        f"{args.calls} calls offered at {args.rate}/s, at most 3 at once, SIPp callers on loopback"
    )
    print(f"  SIPp callers -> SIPp uas (baseline)  {sipp_rate:8.1f} calls/s")
    print(f"  SIPp callers -> backline -> phones   {backline_rate:8.1f} calls/s")
    print(f"  calls accepted by agents through the engine: {accepted} of {args.calls}")
    ratio = sipp_rate / backline_rate
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
