"""``backline run`` as a real subprocess with the XMPP component enabled (for restart tests).

A ``backline.toml`` in a temp dir enables ``[xmpp]`` as the component of the live Prosody,
disables the console, and uses the repo's rules and a temp data dir; HTTP takes a free port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.console import RULES
from tests.support.prosody import COMPONENT, Prosody, free_port

# What every ``backline run`` in the live tests shares: its data, rules and HTTP port.
BASE_TOML = """\
data_dir = "{data}"
rules_dir = "{rules}"
log_level = "info"

[http]
host = "127.0.0.1"
port = {http}

[console]
enabled = false

"""

TOML = (
    BASE_TOML
    + """\
[xmpp]
enabled = true
mode = "component"
jid = "{component}"
secret = "{secret}"
host = "127.0.0.1"
port = {port}
"""
)


def backline_command() -> list[str]:
    """The installed ``backline`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("backline")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


@dataclass
class BacklineProcess:
    """One ``backline run`` at a time in ``directory``; its output goes to ``log``."""

    directory: Path
    server: Prosody
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        """The settings file."""
        return self.directory / "backline.toml"

    @property
    def database(self) -> Path:
        """The SQLite file both runs share."""
        return self.directory / "data" / "backline.db"

    @property
    def log(self) -> Path:
        """stdout and stderr of every run, appended."""
        return self.directory / "backline.log"

    def write_config(self) -> None:
        """Write ``backline.toml`` for the live Prosody."""
        self.config.write_text(
            TOML.format(
                data=self.directory / "data",
                rules=RULES,
                http=self.http_port,
                component=COMPONENT,
                secret=self.server.secret,
                port=self.server.component_port,
            ),
            encoding="utf-8",
        )

    def start(self) -> None:
        """Start ``backline run --config backline.toml`` in its own session."""
        if not self.config.exists():
            self.write_config()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*backline_command(), "run", "--config", str(self.config)],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL: nothing is flushed, nothing said goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it lingers; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def tail(self, lines: int = 60) -> str:
        """The end of the output, for failure messages."""
        if not self.log.exists():
            return "(no output)"
        return "\n".join(
            self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        )
