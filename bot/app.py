"""``backline run``: the store, one HTTP server and every enabled adapter plugin."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping

from aiohttp import web

from bot.access_log import AccessLog
from bot.clock import SystemClock
from bot.config import Config
from bot.core import Core
from bot.http import build_http_app
from bot.loop_watch import PauseWatch
from bot.port.plugin import Adapter, Plugin, discover
from bot.port.port import Port
from bot.storage.sqlite import Synchronous

log = logging.getLogger("backline.app")


async def reload_on_signal(core: Core) -> None:
    """SIGHUP: reload the rules while commands go on, like an admin's `reload` (RUL-5)."""
    problems = await core.reload()
    if problems:
        log.warning("SIGHUP: rules not reloaded, the old rules stay: %s", "; ".join(problems))
    else:
        log.warning("SIGHUP: rules reloaded")


def build_adapters(
    config: Config, core: Core, http: web.Application, plugins: Mapping[str, Plugin]
) -> list[Adapter]:
    """Each enabled plugin's adapter, its migrations run, attached to delivery."""
    adapters: list[Adapter] = []
    for name, plugin in plugins.items():
        settings = config.adapters.get(name)
        if settings is None or not settings.enabled:
            continue
        if plugin.migrations is not None:
            core.store.migrate(plugin.migrations)
        adapter = plugin.create(settings, Port(core, name), http)
        if adapter is None:
            continue
        core.delivery.attach(adapter)
        adapters.append(adapter)
    return adapters


async def serve(config: Config, plugins: Mapping[str, Plugin] | None = None) -> None:
    """Start the store, the HTTP server and the enabled adapters; stop on SIGTERM/SIGINT."""
    plugins = discover() if plugins is None else plugins
    config.data_dir.mkdir(parents=True, exist_ok=True)
    durable: Synchronous = "FULL" if config.storage.synchronous == "full" else "NORMAL"
    core = Core.open(config.rules_dir, config.database, SystemClock(), synchronous=durable)
    http = build_http_app(core, api_token=config.http.api_token)
    adapters = build_adapters(config, core, http, plugins)
    runner = web.AppRunner(http, access_log_class=AccessLog)
    await runner.setup()
    await web.TCPSite(runner, config.http.host, config.http.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: core.spawn(reload_on_signal(core)))
    print(f"backline listening on http://{config.http.host}:{config.http.port}", flush=True)
    pauses = PauseWatch(core.metrics)
    pauses.start()
    try:
        for adapter in adapters:
            await adapter.start()
            log.info("adapter %s started", adapter.name)
        await stop.wait()
    finally:
        await core.stop_tasks()  # a reload under way (SIGHUP or `reload`) ends here
        for adapter in reversed(adapters):
            await adapter.stop()
            core.delivery.detach(adapter)
        await pauses.stop()
        await runner.cleanup()
        core.store.close()
