"""RUL-5: SIGHUP reloads the rules of a running `backline run`; live interactions stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.support.console import copy_rules
from tests.test_http import backline_exe, free_port, get_json

TRIGGER = """- name: tag
  on: interaction.created
  do:
    - set: {{rules: "{version}"}}
"""


def post(port: int, customer: str) -> dict[str, object]:
    body = json.dumps({"kind": "chat", "customer": customer, "target": "group:support"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/interactions",
        data=body,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


def wait_for(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within 10 s:\n{log.read_text()}"
        time.sleep(0.05)


def test_sighup_reloads_triggers_and_keeps_live_interactions_rul_5(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    (rules / "triggers" / "tag.yaml").write_text(TRIGGER.format(version="one"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    env |= {
        "BACKLINE_HTTP_PORT": str(port),
        "BACKLINE_DATA_DIR": str(tmp_path / "data"),
        "BACKLINE_RULES_DIR": str(rules),
    }
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [backline_exe(), "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: get_json(f"http://127.0.0.1:{port}/healthz") is not None, "up", log)
            first = post(port, "Ann")
            assert first["case"] == {"rules": "one"}
            (rules / "triggers" / "tag.yaml").write_text(TRIGGER.format(version="two"))
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "rules reloaded" in log.read_text(), "reload", log)
            assert post(port, "Ben")["case"] == {"rules": "two"}
            kept = get_json(f"http://127.0.0.1:{port}/api/interactions/{first['id']}")
            assert (
                kept is not None and kept["state"] == "queued" and kept["case"] == {"rules": "one"}
            )
            (rules / "triggers" / "tag.yaml").write_text("- {on: nope}\n")
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "rules not reloaded" in log.read_text(), "refusal", log)
            assert "tag.yaml:1: [0].on: unknown event" in log.read_text()
            assert post(port, "Cy")["case"] == {"rules": "two"}
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Traceback" not in log.read_text()
