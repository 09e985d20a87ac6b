"""The plugin contract: what an adapter package exposes as ``PLUGIN`` (errbot/opsdroid shape).

An adapter is found through the entry-point group ``backline.adapters``; each entry names a
``Plugin``. ``serve`` validates the plugin's ``[section]`` with its settings dataclass, runs
its migrations, builds it with ``create(settings, port, http)``, attaches it to delivery and
starts it. Nothing in ``bot/`` names an adapter.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from sqlite_utils.migrations import Migrations

from bot.port.types import Batch

if TYPE_CHECKING:
    from bot.port.port import Port

GROUP = "backline.adapters"


class Adapter(Protocol):
    """A running adapter: connect, listen, send, disconnect.

    Optionally ``health() -> str``: ``up``, or what it is doing instead (``connecting``,
    ``reconnecting``, ``down``); an adapter without it counts as ``up`` in ``/healthz``.
    """

    name: str
    reaches_everyone: bool  # the console shows every delivery

    async def start(self) -> None:
        """Connect and begin listening."""

    async def stop(self) -> None:
        """Finish what is queued and disconnect."""

    async def send(self, batch: Batch) -> None:
        """Deliver one commit's messages; raise ``Unsupported`` for those it cannot render."""


class Settings(Protocol):
    """A plugin's settings dataclass: ``enabled`` plus its own typed fields.

    A field may declare ``metadata={"examples": (...)}``: those values are placeholders,
    refused when the adapter is enabled; ``{"choices": (...)}`` and ``{"port": True}`` are
    checked too. ``problems()`` adds checks across fields.
    """

    enabled: bool

    def problems(self) -> list[str]:
        """Sentences, each naming the setting that is wrong."""


# Returns None when there is nothing to run here (the console without a terminal).
Create = Callable[[Any, "Port", web.Application], Adapter | None]
AddCommands = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


@dataclass(frozen=True)
class Plugin:
    """An adapter package's declaration."""

    name: str
    settings: type[Any]
    create: Create
    migrations: Migrations | None = None  # the adapter's own tables, its own version rows
    add_commands: AddCommands | None = None  # extra ``backline`` subcommands


class PluginError(Exception):
    """An entry point that does not name a usable ``Plugin``."""


def discover() -> dict[str, Plugin]:
    """Every installed adapter plugin by name, in entry-point order."""
    found: dict[str, Plugin] = {}
    for entry in entry_points(group=GROUP):
        plugin = entry.load()
        if not isinstance(plugin, Plugin):
            raise PluginError(f"entry point {entry.name} = {entry.value} is not a Plugin")
        if plugin.name != entry.name:
            raise PluginError(f"entry point {entry.name} names plugin {plugin.name!r}")
        found[plugin.name] = plugin
    return dict(sorted(found.items(), key=lambda item: (item[0] != "console", item[0])))
