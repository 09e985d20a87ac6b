"""Adapters are plugins behind the port (ADP-6): an out-of-tree adapter runs with no edit in
``bot/``, adapters import only ``bot.port``, and the core imports no adapter."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from bot.port import Plugin
from tests.test_http import backline_exe, free_port, get_json

REPO = Path(__file__).resolve().parents[1]
ECHO = REPO / "tests" / "fixtures" / "echo_adapter"
GROUP = "backline.adapters"
WAIT = 20.0


# --- the out-of-tree plugin ---------------------------------------------------------------


@pytest.fixture(scope="module")
def echo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``backline-echo`` installed into a folder of its own, for PYTHONPATH.

    The build runs on a copy, so no build output lands in the tree, and the test venv never
    sees the plugin: other tests discover only the adapters backline ships.
    """
    root = tmp_path_factory.mktemp("echo")
    source, site = root / "src", root / "site"
    shutil.copytree(ECHO, source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "--target",
            str(site),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(site.glob("backline_echo-*.dist-info/entry_points.txt")), sorted(site.iterdir())
    return site


def settings(tmp_path: Path, port: int, echo: str) -> Path:
    """A backline.toml for ``backline run`` with the console off and ``[echo]`` as given."""
    data = tmp_path / "data"
    text = f"""data_dir = "{data}"
rules_dir = "{REPO / "rules"}"

[http]
port = {port}

[console]
enabled = false

[echo]
{echo}
"""
    path = tmp_path / "backline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def environment(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    env["PYTHONPATH"] = str(site)
    return env


@pytest.fixture
def running(tmp_path: Path, echo_site: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    """``backline run`` with the echo plugin enabled; stopped with SIGTERM afterwards."""
    port, out = free_port(), tmp_path / "echo.jsonl"
    settings(tmp_path, port, f'enabled = true\npath = "{out}"')
    log = tmp_path / "run.log"
    with log.open("w") as stream:
        proc = subprocess.Popen(
            [backline_exe(), "run"],
            cwd=tmp_path,
            env=environment(echo_site),
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield proc, port, out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=WAIT)


def wait_for_health(proc: subprocess.Popen[str], port: int, log: Path) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while True:
        assert proc.poll() is None, f"backline run exited {proc.returncode}:\n{log.read_text()}"
        health = get_json(f"http://127.0.0.1:{port}/healthz")
        if health is not None:
            return health
        assert time.monotonic() < deadline, f"no /healthz within {WAIT}s:\n{log.read_text()}"
        time.sleep(0.05)


def post_chat(port: int, customer: str, text: str) -> dict[str, object]:
    body = json.dumps(
        {"kind": "chat", "customer": customer, "target": "group:support", "text": text}
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/interactions",
        data=body,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201
        created: dict[str, object] = json.loads(response.read())
        return created


def echoed(path: Path, expect: str) -> list[dict[str, object]]:
    """The lines the echo adapter wrote, once one is for ``expect`` (bounded wait)."""
    deadline = time.monotonic() + WAIT
    while True:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        written = [json.loads(line) for line in lines]
        if any(line["to"] == expect for line in written):
            return written
        assert time.monotonic() < deadline, f"echo never wrote to {expect}: {written}"
        time.sleep(0.05)


def test_an_installed_out_of_tree_adapter_runs_with_no_edit_in_bot_adp_6(
    tmp_path: Path, running: tuple[subprocess.Popen[str], int, Path]
) -> None:
    """ADP-6: `backline run` discovers backline-echo by its entry point, validates `[echo]`,
    mounts its route and delivers to it; SIGTERM stops it cleanly and the chat is stored."""
    proc, port, out = running
    log = tmp_path / "run.log"
    health = wait_for_health(proc, port, log)
    assert "echo" in health["adapters"], health  # type: ignore[operator]
    assert "console" not in health["adapters"], health  # type: ignore[operator]
    created = post_chat(port, "Zed", "hello ECHO-p01")
    assert (created["id"], created["kind"], created["customer"]) == ("i1", "chat", "Zed")
    written = echoed(out, "customer:Zed")
    to_zed = [line for line in written if line["to"] == "customer:Zed"]
    assert str(to_zed[0]["text"]).startswith("Hello Zed, thanks for getting in touch."), written
    assert {(line["address"], line["interaction"]) for line in to_zed} == {("customer:Zed", "i1")}
    assert all("i1" in line["touched"] for line in to_zed)  # type: ignore[operator]
    counted = get_json(f"http://127.0.0.1:{port}/echo")
    assert counted == {"written": len(out.read_text(encoding="utf-8").splitlines())}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT) == 0, log.read_text()
    state = subprocess.run(
        [backline_exe(), "state", "--data", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert state.returncode == 0, state.stderr
    stored = json.loads(state.stdout)["interactions"]
    assert [(ix["id"], ix["kind"]) for ix in stored] == [("i1", "chat")]
    # the plugin stayed out of this venv: only the PYTHONPATH of that run saw it
    assert "echo" not in {entry.name for entry in entry_points(group=GROUP)}


@pytest.mark.parametrize(
    ("echo", "problem"),
    [
        (
            'enabled = true\npath = "/path/to/echo.jsonl"',
            "'echo.path': still holds the example value; set your own",
        ),
        (
            'enabled = true\npath = "/no/such/folder/echo.jsonl"',
            "'echo.path': the folder /no/such/folder does not exist",
        ),
        ("enabled = true\npath = 42", "backline.toml:12: 'echo.path': expects text, got 42"),
        (
            "enabled = true\nfile = 'x'",
            "backline.toml:12: 'echo.file': unknown setting; known: enabled, path",
        ),
    ],
    ids=["placeholder", "missing-folder", "not-text", "unknown-key"],
)
def test_a_plugin_with_invalid_settings_refuses_to_start_adp_6(
    tmp_path: Path, echo_site: Path, echo: str, problem: str
) -> None:
    """ADP-6: the plugin's own settings dataclass is checked by backline's one validator:
    a placeholder or invalid `[echo]` value stops `backline run` with exit 2, naming it."""
    settings(tmp_path, free_port(), echo)
    result = subprocess.run(
        [backline_exe(), "run"],
        cwd=tmp_path,
        env=environment(echo_site),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert problem in result.stderr, result.stderr
    assert "listening" not in result.stdout
    assert not (tmp_path / "data" / "backline.db").exists()


# --- the boundary -------------------------------------------------------------------------


def imported(path: Path) -> list[str]:
    """Every absolute module ``path`` imports (``from a import b`` gives ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in IMPORTERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


IMPORTERS = ("import_module", "__import__")


def outside_the_port(name: str) -> bool:
    """A backline module other than the port (``bot.port`` and its parts are allowed)."""
    return (name == "bot" or name.startswith("bot.")) and not (
        name == "bot.port" or name.startswith("bot.port.")
    )


def sources(*roots: Path) -> list[Path]:
    files = sorted(p for root in roots for p in root.rglob("*.py"))
    assert files, f"no modules under {roots}"
    return files


def test_adapters_import_only_the_port_adp_6() -> None:
    """ADP-6: no adapter module (the fixture plugin included) imports bot.core,
    bot.interaction, bot.dispatch, bot.directory, bot.storage, bot.rules, bot.config,
    bot.events, bot.outbound or any other part of bot but bot.port."""
    crossing = {
        str(path.relative_to(REPO)): names
        for path in sources(REPO / "adapters", ECHO)
        if (names := [n for n in imported(path) if outside_the_port(n)])
    }
    assert crossing == {}


def test_the_core_imports_no_adapter_adp_6() -> None:
    """ADP-6: nothing under bot/ imports adapters (plugins are found by entry point)."""
    crossing = {
        str(path.relative_to(REPO)): names
        for path in sources(REPO / "bot")
        if (names := [n for n in imported(path) if n == "adapters" or n.startswith("adapters.")])
    }
    assert crossing == {}


def test_the_boundary_check_reads_every_import_form(tmp_path: Path) -> None:
    """The import reader catches each way a module could cross the port, and only those."""
    assert [outside_the_port(n) for n in ("bot.port", "bot.port.host", "bot.portal")] == [
        False,
        False,
        True,
    ]
    assert outside_the_port("bot")
    assert not outside_the_port("botocore")
    module = tmp_path / "m.py"
    module.write_text(
        "import bot.core\nfrom bot import config\nfrom bot.port import Port\n"
        "from . import sibling\nimport importlib\nimportlib.import_module('bot.rules')\n"
        "if TYPE_CHECKING:\n    from bot.storage import Store\n",
        encoding="utf-8",
    )
    assert sorted(n for n in imported(module) if outside_the_port(n)) == [
        "bot.config",
        "bot.core",
        "bot.rules",
        "bot.storage.Store",
    ]


@pytest.mark.parametrize("name", ["console", "slack", "xmpp"])
def test_shipped_adapters_are_entry_points_adp_6(name: str) -> None:
    """ADP-6: each shipped adapter is an entry point of backline.adapters naming its Plugin."""
    found = {entry.name: entry for entry in entry_points(group=GROUP)}
    assert name in found, sorted(found)
    assert found[name].value == f"adapters.{name}:PLUGIN"
    plugin = found[name].load()
    assert isinstance(plugin, Plugin)
    assert plugin.name == name
    assert callable(plugin.create)
    assert isinstance(plugin.settings().enabled, bool)
