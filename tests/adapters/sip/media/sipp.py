"""SIPp as the other end of a baresip call, started and stopped by PID."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.baresip import free_sip_port

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


class Sipp:
    """One SIPp process on loopback for one call (``-m 1``); its own media port."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.port = free_sip_port()
        self.media = free_sip_port()
        command = ["sipp", *args, "-i", "127.0.0.1", "-p", str(self.port), "-mi", "127.0.0.1"]
        command += ["-mp", str(self.media), "-nostdin", "-m", "1"]
        command += ["-timeout", "30s", "-timeout_error"]
        self.process = subprocess.Popen(
            command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
