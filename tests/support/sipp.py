"""SIPp (Debian ``sip-tester``) as a real SIP peer: trunks, callers and agents' phones.

``Sipp.run`` plays one scenario to its end and returns what SIPp reported; ``Sipp.start``
leaves a phone running (stopped by PID in ``stop``). Scenario files live in
``tests/live/sip/scenarios``. Without the binary a test skips, unless ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[1] / "live" / "sip" / "scenarios"
BINARY = shutil.which("sipp")
RUNNING: set[asyncio.subprocess.Process] = set()  # every SIPp started and not yet reaped


def require_sipp() -> str:
    """The ``sipp`` binary; skip without it (fail in CI)."""
    if BINARY is None:
        if os.environ.get("CI"):
            pytest.fail("sipp is not installed (Debian package sip-tester)")
        pytest.skip("sipp is not installed (Debian package sip-tester)")
    return BINARY


def free_udp_port() -> int:
    """A UDP port nobody listens on now (with its TCP twin free too)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


@dataclass
class Outcome:
    """How a SIPp run ended: exit code (0: every call succeeded) and its output."""

    code: int
    output: str

    @property
    def ok(self) -> bool:
        """Every call passed its scenario."""
        return self.code == 0


@dataclass
class Sipp:
    """One SIPp process at a time per object, in ``directory``."""

    directory: Path
    process: asyncio.subprocess.Process | None = None
    port: int = field(default_factory=free_udp_port)

    def args(self, scenario: str, target: str | None, *extra: str) -> list[str]:
        """The command line for ``scenario`` (a file in SCENARIOS, or ``-sn`` built-in)."""
        built_in = scenario in ("uac", "uas")
        path = Path(scenario) if scenario.endswith(".xml") else SCENARIOS / f"{scenario}.xml"
        script = ["-sn", scenario] if built_in else ["-sf", str(path)]
        where = [target] if target else []
        return [
            require_sipp(),
            *where,
            *script,
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-nostdin",
            "-timeout_error",
            "-trace_err",
            "-error_file",
            str(self.directory / f"sipp-{self.port}-errors.log"),
            *extra,
        ]

    async def run(
        self, scenario: str, target: str | None = None, *extra: str, timeout: float = 30
    ) -> Outcome:
        """Play ``scenario`` (default: one call) and wait for SIPp to exit."""
        await self.start(scenario, target, "-timeout", f"{int(timeout)}s", *extra)
        return await self.wait(timeout + 5)

    async def start(self, scenario: str, target: str | None = None, *extra: str) -> None:
        """Start SIPp in the background (a phone waiting for calls)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if "-m" not in extra:
            extra = (*extra, "-m", "1")
        self.process = await asyncio.create_subprocess_exec(
            *self.args(scenario, target, *extra),
            cwd=self.directory,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        RUNNING.add(self.process)

    async def wait(self, timeout: float = 30) -> Outcome:
        """Wait for the running SIPp to exit."""
        assert self.process is not None
        try:
            out, _ = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            self.stop()
            out, _ = await self.process.communicate()
        code = self.process.returncode
        RUNNING.discard(self.process)
        self.process = None
        return Outcome(code if code is not None else -1, out.decode("utf-8", "replace"))

    def stop(self) -> None:
        """Kill the running SIPp (by its PID)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    def scenario(self, name: str, **values: str) -> str:
        """A copy of scenario ``name`` with each ``{KEY}`` replaced (SIPp has no such keys)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        text = (SCENARIOS / f"{name}.xml").read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(f"{{{key}}}", value)
        path = self.directory / f"{name}-{self.port}.xml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def fields(self, *rows: str) -> Path:
        """An injection file (``-inf``) with ``rows`` (``a;b;c``), read in order."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"fields-{self.port}.csv"
        path.write_text("SEQUENTIAL\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8")
        return path

    @staticmethod
    def stop_all() -> None:
        """Kill every SIPp still running (by PID): a failed test leaves none behind."""
        for process in list(RUNNING):
            if process.returncode is None:
                process.kill()
            RUNNING.discard(process)

    def errors(self) -> str:
        """SIPp's error log for this port."""
        path = self.directory / f"sipp-{self.port}-errors.log"
        return path.read_text(errors="replace") if path.exists() else ""
