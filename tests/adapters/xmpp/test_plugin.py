"""The XMPP adapter as a plugin: found by entry point, built and attached by the core (ADP-4)."""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from aiohttp import web

import adapters.xmpp
from adapters.xmpp import PLUGIN, XmppAdapter
from bot.app import build_adapters
from bot.clock import SystemClock
from bot.config import load_config
from bot.core import Core
from bot.port.plugin import GROUP
from tests.support.console import RULES

PACKAGE = Path(adapters.xmpp.__file__).parent
CORE_INSIDES = ("bot.core", "bot.interaction", "bot.dispatch", "bot.directory", "bot.storage")
FORBIDDEN = (*CORE_INSIDES, "bot.rules", "bot.config", "bot.events", "bot.outbound")


def test_the_entry_point_names_the_xmpp_plugin() -> None:
    """The ``backline.adapters`` entry point ``xmpp`` is this package's ``PLUGIN``."""
    (entry,) = entry_points(group=GROUP, name="xmpp")
    assert entry.load() is PLUGIN and PLUGIN.name == "xmpp"


async def test_serve_builds_and_attaches_the_adapter_from_settings(tmp_path: Path) -> None:
    """``[xmpp] enabled`` settings become an attached adapter; disabled, nothing is built."""
    env = {"BACKLINE_XMPP_ENABLED": "true", "BACKLINE_XMPP_SECRET": "s3cr3t-ok"}
    core = Core.open(RULES, tmp_path / "backline.db", SystemClock())
    try:
        plugins = {"xmpp": PLUGIN}
        (adapter,) = build_adapters(
            load_config(None, env, plugins), core, web.Application(), plugins
        )
        assert isinstance(adapter, XmppAdapter)
        assert core.delivery.adapters["xmpp"] is adapter and not adapter.connected
        off = load_config(None, {}, plugins)
        assert build_adapters(off, core, web.Application(), plugins) == []
    finally:
        core.store.close()


def test_the_adapter_imports_only_the_port_from_the_core() -> None:
    """ADP-6: every ``bot`` import in adapters/xmpp is ``bot.port``."""
    found: list[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert found == []
