"""The ``backline`` command: ``run``, ``rules check|graph``, ``state``, and plugins' own.

Adapter plugins add their subcommands (the console adds ``demo``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import app
from bot.config import ConfigError, load_config
from bot.interaction.machines import load_machines, mermaid
from bot.logs import configure
from bot.port.host import DEFAULT_RULES, rules_dir
from bot.port.plugin import discover
from bot.rules.check import check_rules
from bot.rules.errors import RulesInvalid
from bot.state import snapshot
from bot.storage import Store

DESCRIPTION = (
    "Contact-centre collaboration in team chat: run it, check and draw its rules, read its state;"
    " adapters add their own commands (the console adds demo)."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except RulesInvalid as exc:
        print("The rules are invalid; backline did not start:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backline", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    for plugin in discover().values():
        if plugin.add_commands is not None:
            plugin.add_commands(sub)

    run = sub.add_parser("run", help="start backline from backline.toml / BACKLINE_* settings")
    run.add_argument("--config", type=Path, help="settings file (default: ./backline.toml)")
    run.set_defaults(func=_run)

    rules = sub.add_parser("rules", help="work with rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_sub.add_parser("check", help="validate a rules folder (exit 1 if invalid)")
    check.add_argument("folder", nargs="?", type=Path, default=DEFAULT_RULES)
    check.set_defaults(func=_rules_check)

    graph = rules_sub.add_parser("graph", help="print state machines as mermaid diagrams")
    graph.add_argument("kind", nargs="?", help="one kind (voice, chat, ...); default: all")
    graph.add_argument("--rules", type=Path, default=None, help="rules folder (default: ./rules)")
    graph.set_defaults(func=_rules_graph)

    state = sub.add_parser("state", help="print the stored state of a data folder")
    state.add_argument("--data", type=Path, default=Path("data"), help="data folder")
    state.add_argument("--json", action="store_true", help="print JSON (the default)")
    state.set_defaults(func=_state)
    return parser


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config, os.environ)
    configure(config.log_level, config.log_format)
    asyncio.run(app.serve(config))
    return 0


def _rules_check(args: argparse.Namespace) -> int:
    errors = check_rules(args.folder)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{args.folder}: {len(errors)} problem(s); the bot would not start.", file=sys.stderr)
        return 1
    print(f"{args.folder}: rules are valid.")
    return 0


def _rules_graph(args: argparse.Namespace) -> int:
    specs = load_machines(rules_dir(args.rules) / "machines")
    if args.kind is not None and args.kind not in specs:
        print(f"error: no machine '{args.kind}'; kinds: {', '.join(specs)}", file=sys.stderr)
        return 2
    for kind, spec in specs.items():
        if args.kind in (None, kind):
            print(mermaid(spec))
    return 0


def _state(args: argparse.Namespace) -> int:
    database = args.data / "backline.db"
    if not database.exists():
        print(f"error: no backline data in {args.data} (expected {database})", file=sys.stderr)
        return 2
    store = Store(database)
    try:
        print(json.dumps(snapshot(store), indent=2))
    finally:
        store.close()
    return 0
