"""SIP media benchmark: the mixer with real RTP I/O over loopback UDP against a bare relay.

Run as ``python bench/sip_media.py [--conferences N] [--parties P] [--seconds S]
[--cpu-percent L] [--jitter-ms L] [--normal-priority]``. Phones (one UDP socket per party,
in this process) send 20 ms PCMU frames of a tone to a child process; in the same run the
child is

- a bare relay (the baseline): one socket per party that sends every packet straight back;
- backline's ``MediaServer``: one leg per party, N conferences of P parties, each party
  hearing the others, mixed every 20 ms in one batch by its clock thread (at real-time
  priority where the OS allows; ``--normal-priority`` keeps it at ordinary priority).

Each child measures its own CPU time over the measured window (after a warm-up); the phones
time every packet they get back (the kernel's receive time). Targets: the mixer's CPU time
under ``--cpu-percent`` of the wall time (default 100: within one core) and the p99 frame
jitter (how far each frame's arrival strays from the ideal 20 ms grid its RTP timestamps
set, counted over the child's measured window only) under ``--jitter-ms`` (default 5). It
prints both runs, the mixer clock's own count of frames mixed and restarts, the priority
its thread got and how late its ticks started, the ratio of their CPU times and the host's
load and CPU pressure (frame jitter measures the scheduler as much as the mixer when other
processes want the CPU), and exits 1 on a missed target. ``measure(...)`` returns the
figures for other benchmarks (``bench/sip.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.targets import TIMES, Target, verdict  # noqa: E402

HOST = "127.0.0.1"
FRAME = 0.02
WARM_UP = 1.0
PORTS = (26000, 27998)
_HEADER = struct.Struct("!BBHII")
_TIMESTAMP = struct.Struct("!I")
_TIMESPEC = struct.Struct("qq")
SO_TIMESTAMPNS = 35  # Linux; the socket module does not name it
_STAMP_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)


@dataclass(frozen=True)
class Run:
    """One child's figures over the measured window."""

    role: str
    cpu: float
    wall: float
    packets: int
    p99_jitter_ms: float
    median_jitter_ms: float
    clock: str = ""
    """The mixer's own account of its clock over the window (frames mixed, restarts)."""

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu / self.wall


@dataclass(frozen=True)
class Result:
    """The bare relay and the mixer, same phones, same run."""

    conferences: int
    parties: int
    relay: Run
    mixer: Run

    @property
    def ratio(self) -> float:
        return self.mixer.cpu / max(self.relay.cpu, 1e-9)


# -- the child: a relay or the mixer, driven by JSON lines on stdin/stdout ----------------


class Relay(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.peer: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.peer is not None:
            self.transport.sendto(data, self.peer)  # type: ignore[attr-defined]


async def read_line() -> dict:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return json.loads(line)


def say(message: dict) -> None:
    print(json.dumps(message), flush=True)


async def serve(role: str, legs: int, parties: int, seconds: float, realtime: bool) -> None:
    loop = asyncio.get_running_loop()
    if role == "mixer":
        from adapters.sip.media import MediaServer, RtpPeer

        server = MediaServer(HOST, PORTS, realtime=realtime)
        await server.start()
        ports = [await server.open_leg(f"leg{n}") for n in range(legs)]
        say({"ports": ports})
        peers = (await read_line())["peers"]
        for n, port in enumerate(peers):
            server.connect(f"leg{n}", RtpPeer(HOST, port, 0))
        for n in range(legs):
            first = n - n % parties
            server.hears(f"leg{n}", {f"leg{m}" for m in range(first, first + parties)})
    else:
        relays = []
        for _ in range(legs):
            _, relay = await loop.create_datagram_endpoint(Relay, local_addr=(HOST, 0))
            relays.append(relay)
        say({"ports": [r.transport.get_extra_info("sockname")[1] for r in relays]})
        for relay, port in zip(relays, (await read_line())["peers"], strict=True):
            relay.peer = (HOST, port)
    say({"ready": True})
    await read_line()  # go
    await asyncio.sleep(WARM_UP)
    cpu, wall = time.process_time(), time.monotonic()
    ticks, skipped = (server.ticks, server.skipped) if role == "mixer" else (0, 0)
    say({"window": "start", "at": time.time()})
    await asyncio.sleep(seconds)
    figures = {
        "cpu": time.process_time() - cpu,
        "wall": time.monotonic() - wall,
        "end": time.time(),
    }
    if role == "mixer":
        ticks, skipped = server.ticks - ticks, server.skipped - skipped
        late = server.clock.lateness(ticks) * 1000 if ticks else np.zeros(1)
        p99, worst = np.percentile(late, 99), late.max()
        figures["clock"] = (
            f"{ticks} frames mixed, {skipped} clock restarts, thread at {server.clock.priority},"
            f" tick start late p99 {p99:.2f} ms (max {worst:.2f} ms)"
        )
        await server.stop()
    say(figures)


# -- the phones ----------------------------------------------------------------------------


class Phones:
    """One non-blocking UDP socket per party; every ``SAMPLE``-th one also times what it gets.

    The others never read: what the kernel cannot queue for them it drops, at no cost to
    the process. Arrival times are the kernel's receive timestamps (``SO_TIMESTAMPNS``), so
    the phones' own scheduling does not distort the jitter they measure.
    """

    SAMPLE = 10
    SLOTS = 10

    def __init__(self, count: int) -> None:
        self.sockets = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((HOST, 0))
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.sockets.append(sock)
        self.timed = self.sockets[:: self.SAMPLE]
        self.arrivals: dict[int, list[tuple[float, int]]] = {}
        self.recording = False

    @property
    def ports(self) -> list[int]:
        return [sock.getsockname()[1] for sock in self.sockets]

    def listen(self, loop: asyncio.AbstractEventLoop) -> None:
        for sock in self.timed:
            self.arrivals[sock.fileno()] = []
            loop.add_reader(sock.fileno(), self._drain, sock)

    def _drain(self, sock: socket.socket) -> None:
        arrivals = self.arrivals[sock.fileno()]
        while True:
            try:
                data, ancillary, _, _ = sock.recvmsg(2048, _STAMP_SPACE)
            except BlockingIOError:
                return
            if self.recording:
                arrivals.append((arrival(ancillary), _TIMESTAMP.unpack_from(data, 4)[0]))

    def start_recording(self) -> None:
        for arrivals in self.arrivals.values():
            arrivals.clear()
        self.recording = True

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        for sock in self.timed:
            loop.remove_reader(sock.fileno())
        for sock in self.sockets:
            sock.close()

    def jitter_ms(self, start: float, end: float) -> tuple[int, float, float]:
        """Packets timed; the p99 and the median of how far arrivals stray from the 20 ms grid.

        Only packets that arrived within the child's measured window count (``start`` to
        ``end``, wall-clock seconds, as the kernel stamps them): what the child does to
        report its figures is not part of what is measured. A leg's grid is its RTP
        timestamps (160 per 20 ms frame, counted from its first packet in the window),
        placed at the leg's median offset: a frame on time is at 0, one sent late by 7 ms
        at 7 ms (and only that frame, not the gap after it too).
        """
        swings: list[float] = []
        packets = 0
        for arrivals in self.arrivals.values():
            timed = [(a, t) for a, t in arrivals if start <= a <= end]
            packets += len(timed)
            if len(timed) < 2:
                continue
            at = np.array([a for a, _ in timed])
            ts = np.array([t for _, t in timed], dtype=np.int64)
            grid = ((ts - ts[0]) % 2**32) / 8000.0
            offsets = (at - at[0]) - grid
            swings.extend(np.abs(offsets - np.median(offsets)).tolist())
        if not swings:
            return packets, float("inf"), float("inf")
        p99, median = np.percentile(swings, [99, 50])
        return packets, float(p99) * 1000, float(median) * 1000

    async def send_frames(self, targets: list[int], stop: asyncio.Event) -> None:
        """Every phone sends a frame every 20 ms, the phones spread over ``SLOTS`` phases of
        the period as independent phones would be, not all in one burst."""
        loop = asyncio.get_running_loop()
        payload = frame_payload()
        pairs = list(enumerate(zip(self.sockets, targets, strict=True)))
        slots = [pairs[slot :: self.SLOTS] for slot in range(self.SLOTS)]
        due, n = loop.time(), 0
        while not stop.is_set():
            for group in slots:
                for k, (sock, port) in group:
                    head = _HEADER.pack(0x80, 0, n % 65536, (n * 160) % 2**32, k + 1)
                    with contextlib.suppress(BlockingIOError):
                        sock.sendto(head + payload, (HOST, port))
                due += FRAME / self.SLOTS
                await asyncio.sleep(max(0.0, due - loop.time()))
            n += 1


def arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive time of a datagram (now, if the kernel gave none)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack(data[: _TIMESPEC.size])
            return seconds + nanoseconds / 1e9
    return time.time()


def frame_payload() -> bytes:
    from adapters.sip.media import g711

    t = np.arange(160) / 8000
    return g711.encode((3000 * np.sin(2 * np.pi * 400 * t)).astype(np.int16), "pcmu").tobytes()


async def run_child(
    role: str, phones: Phones, parties: int, seconds: float, realtime: bool = True
) -> Run:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        role,
        "--legs",
        str(len(phones.sockets)),
        "--parties",
        str(parties),
        "--seconds",
        str(seconds),
        *([] if realtime else ["--normal-priority"]),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert child.stdin is not None and child.stdout is not None

    async def receive() -> dict:
        line = await asyncio.wait_for(child.stdout.readline(), 30 + seconds)
        if not line:
            raise RuntimeError(f"the {role} process ended early (exit {await child.wait()})")
        return json.loads(line)

    def send(message: dict) -> None:
        child.stdin.write((json.dumps(message) + "\n").encode())

    stop = asyncio.Event()
    sender: asyncio.Task[None] | None = None
    try:
        targets = (await receive())["ports"]
        send({"peers": phones.ports})
        await receive()  # ready
        send({"go": True})
        sender = asyncio.ensure_future(phones.send_frames(targets, stop))
        window = await receive()
        phones.start_recording()
        figures = await receive()
        phones.recording = False
        packets, p99, median = phones.jitter_ms(window["at"], figures["end"])
        cpu, wall, clock = figures["cpu"], figures["wall"], figures.get("clock", "")
        return Run(role, cpu, wall, packets, p99, median, clock)
    finally:
        stop.set()
        if sender is not None:
            await sender
        if child.returncode is None:
            child.stdin.close()
            try:
                await asyncio.wait_for(child.wait(), 10)
            except TimeoutError:
                child.kill()
                await child.wait()


async def measure_async(
    conferences: int = 100, parties: int = 3, seconds: float = 5.0, *, realtime: bool = True
) -> Result:
    """The bare relay, then the mixer, each with ``conferences`` times ``parties`` phones.

    ``realtime=False`` keeps the mixer's clock thread at ordinary priority.
    """
    loop = asyncio.get_running_loop()
    phones = Phones(conferences * parties)
    phones.listen(loop)
    try:
        relay = await run_child("relay", phones, parties, seconds)
        mixer = await run_child("mixer", phones, parties, seconds, realtime)
    finally:
        phones.close(loop)
    return Result(conferences, parties, relay, mixer)


def measure(
    conferences: int = 100, parties: int = 3, seconds: float = 5.0, *, realtime: bool = True
) -> Result:
    """``measure_async`` in its own event loop (for scripts)."""
    return asyncio.run(measure_async(conferences, parties, seconds, realtime=realtime))


def targets(result: Result, cpu_percent: float = 100.0, jitter_ms: float = 5.0) -> list[Target]:
    """The mixer's promises: CPU within ``cpu_percent`` of one core, p99 jitter in ms."""
    return [
        Target("mixer CPU of one core", result.mixer.cpu_percent, cpu_percent, "%", 1),
        Target("mixer p99 frame jitter", result.mixer.p99_jitter_ms, jitter_ms, "ms"),
    ]


def report(result: Result) -> None:
    legs = result.conferences * result.parties
    print(
        f"{result.conferences} conferences x {result.parties} parties = {legs} legs,"
        f" {legs * 50:,} packets/s each way, real UDP on loopback;"
        f" jitter timed on every {Phones.SAMPLE}th leg"
    )
    for run in (result.relay, result.mixer):
        name = "bare UDP relay (baseline)" if run.role == "relay" else "MediaServer mixer"
        print(
            f"  {name:<26} cpu {run.cpu:.2f} s over {run.wall:.2f} s = {run.cpu_percent:5.1f}%"
            f" of a core, {run.packets:,} packets timed, p99 frame jitter"
            f" {run.p99_jitter_ms:.2f} ms (median {run.median_jitter_ms:.2f} ms)"
        )
    print(f"  mixer clock: {result.mixer.clock} (due: {round(result.mixer.wall / FRAME)})")
    print(f"ratio (mixer CPU / relay CPU): {result.ratio:.2f}{TIMES}")
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(
        f"host: {os.cpu_count()} cores, load average {load}{cpu_pressure()}"
        " (jitter grows when other processes want the CPU)"
    )


def cpu_pressure() -> str:
    """``, CPU pressure 12%`` (Linux PSI: time some task waited for a CPU, last 10 s), or ``""``."""
    try:
        line = Path("/proc/pressure/cpu").read_text(encoding="ascii").splitlines()[0]
    except (OSError, IndexError):
        return ""
    fields = dict(field.split("=") for field in line.split()[1:])
    return f", CPU pressure {float(fields.get('avg10', 0)):.0f}%"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conferences", type=int, default=100)
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window")
    parser.add_argument(
        "--normal-priority",
        action="store_true",
        help="keep the mixer's clock thread at ordinary priority (no real-time scheduling)",
    )
    parser.add_argument("--cpu-percent", type=float, default=100.0, help="mixer CPU target")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="p99 frame jitter target")
    parser.add_argument("--serve", choices=["relay", "mixer"], help=argparse.SUPPRESS)
    parser.add_argument("--legs", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        asyncio.run(
            serve(args.serve, args.legs, args.parties, args.seconds, not args.normal_priority)
        )
        return 0
    result = measure(
        args.conferences, args.parties, args.seconds, realtime=not args.normal_priority
    )
    report(result)
    return verdict(targets(result, args.cpu_percent, args.jitter_ms))


if __name__ == "__main__":
    sys.exit(main())
