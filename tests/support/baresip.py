"""A real baresip phone for live SIP tests: headless, own config dir, WAV in and WAV out.

``baresip -f DIR`` with a config written here: what the phone says comes from
``audio_source aufile,IN.wav`` (8 kHz mono), PCMU/PCMA only, loopback only, no registration
unless asked. baresip 1.0's ``aufile`` is a source only (``audio_player aufile,...`` plays
nothing), so what the phone hears is taken from the ``sndfile`` module, which writes every
call's decoded audio (``heard``) and encoded audio (``sent``) as WAVs in ``dumps``; the
player itself is a silent ``aubridge`` device. ``start(dial=URI)``
calls out as soon as it is up (the ``menu`` module's ``/dial``); ``auto_answer=True``
answers every incoming call to ``user``. ``stop`` ends it by PID (SIGTERM, then SIGKILL) and
waits, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MODULES = Path("/usr/lib/baresip/modules")
CONFIG = """\
poll_method epoll
sip_listen {host}:{sip_port}
call_local_timeout 60
call_max_calls 4
audio_player aubridge,{user}-speaker
audio_source aufile,{audio_in}
audio_alert aubridge,{user}-bell
snd_path {dumps}
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
audio_level no
rtp_ports {rtp_low}-{rtp_high}
rtp_timeout 0
module_path {modules}
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
"""


def baresip_missing() -> bool:
    """Whether the ``baresip`` binary (or its aufile module) is absent on this machine."""
    return shutil.which("baresip") is None or not (MODULES / "aufile.so").exists()


def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` right now for UDP and for TCP: baresip listens on both."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:  # taken for TCP (an outgoing connection's port): try another
                    continue
                return port
    raise RuntimeError(f"no port on {host} is free for both UDP and TCP")


@dataclass
class Baresip:
    """One baresip process: ``directory`` holds its config, accounts, log and audio."""

    directory: Path
    audio_in: Path
    user: str = "phone"
    host: str = "127.0.0.1"
    sip_port: int = field(default_factory=free_sip_port)
    rtp_ports: tuple[int, int] = (31000, 31098)
    auto_answer: bool = False
    registrar: str | None = None
    """``host:port`` to REGISTER with (with ``password``); ``None``: no registration."""
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def dumps(self) -> Path:
        """Where the ``sndfile`` module writes each call's audio, both ways, as WAVs."""
        return self.directory / "audio"

    @property
    def log(self) -> Path:
        return self.directory / "baresip.log"

    @property
    def uri(self) -> str:
        """Where to call this phone directly."""
        return f"sip:{self.user}@{self.host}:{self.sip_port}"

    def write_config(self) -> None:
        self.dumps.mkdir(parents=True, exist_ok=True)
        (self.directory / "config").write_text(
            CONFIG.format(
                host=self.host,
                sip_port=self.sip_port,
                audio_in=self.audio_in,
                user=self.user,
                dumps=self.dumps,
                rtp_low=self.rtp_ports[0],
                rtp_high=self.rtp_ports[1],
                modules=MODULES,
            ),
            encoding="utf-8",
        )
        (self.directory / "accounts").write_text(self.account() + "\n", encoding="utf-8")
        (self.directory / "contacts").write_text("", encoding="utf-8")

    def account(self) -> str:
        """The accounts line: loopback, G.711 only, registration and answer mode as set."""
        domain = self.registrar or f"{self.host}:{self.sip_port}"
        line = f"<sip:{self.user}@{domain}>;audio_codecs=PCMU/8000/1,PCMA/8000/1"
        line += f";regint={3600 if self.registrar else 0}"
        if self.password is not None:
            line += f";auth_pass={self.password}"
        if self.auto_answer:
            line += ";answermode=auto"
        return line

    def start(self, *, dial: str | None = None, seconds: float = 30.0) -> None:
        """Start baresip (it quits by itself after ``seconds``), dialling ``dial`` if given."""
        self.write_config()
        command = ["baresip", "-f", str(self.directory), "-t", str(int(seconds))]
        if dial is not None:
            command += ["-e", f"/dial {dial}"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,
            )

    def heard(self) -> Path:
        """The WAV of what this phone heard in its latest call."""
        return self._latest("dec")

    def sent(self) -> Path:
        """The WAV of what this phone sent in its latest call."""
        return self._latest("enc")

    def _latest(self, way: str) -> Path:
        dumps = sorted(self.dumps.glob(f"dump-*-{way}.wav"))
        if not dumps:
            raise FileNotFoundError(f"baresip wrote no call audio in {self.dumps}")
        return dumps[-1]

    def wait(self, timeout: float) -> int:
        """Wait for baresip to quit by itself; its exit code."""
        assert self.process is not None
        return self.process.wait(timeout)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        """Wait until ``text`` appears in baresip's output."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                raise TimeoutError(f"baresip never said {text!r}:\n{self.log_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """End the process by PID (SIGTERM, then SIGKILL) and reap it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(5)
