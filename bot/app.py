"""Running backline: the demo, a script, or the server with its adapters."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from aiohttp import web

from adapters.console.adapter import ConsoleAdapter, stdin_lines
from adapters.console.convert import Line
from adapters.slack.adapter import slack_adapter
from adapters.xmpp.adapter import xmpp_adapter
from bot.clock import FakeClock, SystemClock
from bot.config import Config
from bot.core import Core
from bot.http import build_http_app
from bot.state import snapshot
from bot.storage.sqlite import Synchronous

log = logging.getLogger("backline.app")

BANNER = (
    "backline demo: you are @{member}. Type `help` for commands, `as @bob` to switch member,"
    " Ctrl-D to quit.\nEvery message any member or customer receives is shown as [@who] text."
)


async def run_script(rules: Path, database: Path, lines: list[Line], json_out: Path | None) -> None:
    """Run a parsed console script on a fake clock; optionally write the final state."""
    core = Core.open(rules, database, FakeClock())
    try:
        await ConsoleAdapter(core).run_script(lines)
        if json_out is not None:
            json_out.write_text(json.dumps(snapshot(core.store), indent=2) + "\n", encoding="utf-8")
    finally:
        core.store.close()


async def run_repl(rules: Path, database: Path, member: str) -> None:
    """The interactive console on the real clock, until end of input."""
    core = Core.open(rules, database, SystemClock())
    try:
        console = ConsoleAdapter(core, echo=False)
        core.directory.member(member)
        console.current = member
        interactive = sys.stdin.isatty()
        if interactive:
            console.write(BANNER.format(member=member))
        await console.repl(stdin_lines(), _prompt if interactive else lambda _: None)
    finally:
        core.store.close()


async def reload_on_signal(core: Core) -> None:
    """SIGHUP: reload the rules between commands, like an admin's `reload` (RUL-5)."""

    async def reload() -> list[str]:
        return core.reload_rules()

    problems = await core.act(reload)
    if problems:
        log.warning("SIGHUP: rules not reloaded, the old rules stay: %s", "; ".join(problems))
    else:
        log.warning("SIGHUP: rules reloaded")


def _prompt(text: str) -> None:
    print(text, end="", flush=True)


class Adapter(Protocol):
    """A platform adapter as ``serve`` runs it: connect on start, disconnect on stop."""

    name: str

    async def start(self) -> None:
        """Connect and begin listening."""

    async def stop(self) -> None:
        """Disconnect."""


# Each returns the adapter its settings enable (mounting its routes on the HTTP app), or None.
AdapterFactory = Callable[[Config, Core, web.Application], Adapter | None]
ADAPTERS: list[AdapterFactory] = [slack_adapter, xmpp_adapter]


async def serve(config: Config) -> None:
    """Start the store, the HTTP server and the enabled adapters; stop on SIGTERM/SIGINT."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    durable: Synchronous = "FULL" if config.storage.synchronous == "full" else "NORMAL"
    core = Core.open(config.rules_dir, config.database, SystemClock(), synchronous=durable)
    http = build_http_app(core)
    adapters = [a for factory in ADAPTERS if (a := factory(config, core, http)) is not None]
    runner = web.AppRunner(http)
    await runner.setup()
    await web.TCPSite(runner, config.http.host, config.http.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task[None]] = []
    loop.add_signal_handler(
        signal.SIGHUP, lambda: tasks.append(asyncio.create_task(reload_on_signal(core)))
    )
    print(f"backline listening on http://{config.http.host}:{config.http.port}", flush=True)
    if config.console.enabled and sys.stdin.isatty():
        console = ConsoleAdapter(core, echo=False)
        console.current = config.console.member
        tasks.append(asyncio.create_task(console.repl(stdin_lines(), _prompt)))
    try:
        for adapter in adapters:
            await adapter.start()
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for adapter in reversed(adapters):
            await adapter.stop()
        await runner.cleanup()
        core.store.close()
