"""``backline run`` as a real process with ``[sip]`` enabled: a phone registers and calls.

ADP-5, ADP-6: the SIP plugin is found through its entry point, validated and started by
``serve``; a SIPp phone registers with digest credentials from the settings (never in the
log) and dials ``*97``: its voicemail session answers, takes its digits and ends when it
hangs up; bad ``[sip]`` settings stop the start with exit code 2 naming the keys.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.adapters.sip.harness import password, sip_rules
from tests.live.backline_process import BASE_TOML, backline_command
from tests.support.prosody import free_port
from tests.support.sipp import Sipp, free_udp_port

TOML = (
    BASE_TOML
    + """\
[sip]
enabled = true
host = "127.0.0.1"
port = {sip}
passwords = "1001:{secret}"
trunks = "127.0.0.1"
voicemail_dir = "{data}/voicemail"
"""
)


def start(directory: Path, **values: object) -> tuple[subprocess.Popen[bytes], Path]:
    """``backline run`` with the settings; its log file."""
    config = directory / "backline.toml"
    config.write_text(TOML.format(**values), encoding="utf-8")
    log = directory / "backline.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*backline_command(), "run", "--config", str(config)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return process, log


def healthy(port: int, timeout: float = 20.0) -> str:
    """``/healthz`` once it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as got:
                return got.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError("backline never answered /healthz")


async def test_backline_run_registers_a_phone_that_reaches_its_voicemail_adp_5(
    tmp_path: Path,
) -> None:
    """ADP-5: the whole path through a real ``backline run`` process."""
    rules = sip_rules(tmp_path)
    http, sip = free_port(), free_udp_port()
    secret = password("1001")
    values = {"data": tmp_path / "data", "rules": rules, "http": http, "sip": sip}
    process, log = start(tmp_path, secret=secret, **values)
    try:
        assert "sip" in healthy(http)
        reg = Sipp(tmp_path / "reg")
        fields = reg.fields("1001;;5999")
        outcome = await reg.run(
            "register", f"127.0.0.1:{sip}", "-inf", str(fields), "-au", "1001", "-ap", secret
        )
        assert outcome.ok, outcome.output
        listen = Sipp(tmp_path / "listen")
        outcome = await listen.run(
            "listen_voicemail", f"127.0.0.1:{sip}", "-inf", str(listen.fields("1001")),
            "-au", "1001", "-ap", secret,
        )  # fmt: skip
        assert outcome.ok, outcome.output + listen.errors()
    finally:
        process.terminate()
        process.wait(10)
    text = log.read_text(errors="replace")
    assert secret not in text  # credentials are never logged
    assert "sip: listening on 127.0.0.1" in text


def test_bad_sip_settings_stop_the_start_naming_the_key_adp_6(tmp_path: Path) -> None:
    """ADP-6: an example password and a non-address trunk → exit 2, both keys named."""
    rules = sip_rules(tmp_path)
    values = {"data": tmp_path / "data", "rules": rules, "http": free_port(), "sip": 0}
    config = tmp_path / "backline.toml"
    config.write_text(
        TOML.format(secret="x", **values)
        .replace('passwords = "1001:x"', 'passwords = "1001:secret"')
        .replace('trunks = "127.0.0.1"', 'trunks = "trunk.example"'),
        encoding="utf-8",
    )
    result = subprocess.run(
        [*backline_command(), "run", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sip.passwords" in result.stderr or "passwords" in result.stderr, result.stderr
    assert "sip.trunks" in result.stderr, result.stderr
