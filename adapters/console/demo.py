"""``backline demo``: the console on the demo directory, interactive or running a script."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from adapters.console.adapter import ConsoleAdapter, prompt, stdin_lines
from adapters.console.convert import Line, ScriptError, parse_script
from bot.port.host import configure, rules_dir, session

BANNER = (
    "backline demo: you are @{member}. Type `help` for commands, `as @bob` to switch member,"
    " Ctrl-D to quit.\nEvery message any member or customer receives is shown as [@who] text."
)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the ``backline`` command."""
    demo = sub.add_parser("demo", help="the console on the demo directory (no accounts needed)")
    demo.add_argument("--rules", type=Path, default=None, help="rules folder (default: ./rules)")
    demo.add_argument("--data", type=Path, help="data folder to keep state in (default: temporary)")
    demo.add_argument("--script", type=Path, help="run a script of console lines, then exit")
    demo.add_argument("--json", type=Path, dest="json_out", help="with --script: write final state")
    demo.add_argument("--as", dest="member", default="alice", help="who you type as at first")
    demo.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    """Run the demo; a script that cannot be read exits 2 with every bad line named."""
    configure("warning")
    rules = rules_dir(args.rules)
    try:
        lines = parse_script(_read(args.script)) if args.script else None
    except ScriptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="backline-") as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        database = data / "backline.db"
        if lines is not None:
            asyncio.run(run_script(rules, database, lines, args.json_out))
        else:
            asyncio.run(run_repl(rules, database, args.member))
    return 0


async def run_script(rules: Path, database: Path, lines: list[Line], json_out: Path | None) -> None:
    """Run a parsed console script on a fake clock; optionally write the final state."""
    async with session(rules, database, script=True) as running:
        console = ConsoleAdapter(running.port("console"))
        running.attach(console)
        await console.run_script(lines)
        if json_out is not None:
            text = json.dumps(running.snapshot(), indent=2) + "\n"
            json_out.write_text(text, encoding="utf-8")


async def run_repl(rules: Path, database: Path, member: str) -> None:
    """The interactive console on the real clock, until end of input."""
    async with session(rules, database, script=False) as running:
        console = ConsoleAdapter(running.port("console"), echo=False, member=member)
        running.attach(console)
        console.port.member_by_id(member)
        interactive = sys.stdin.isatty()
        if interactive:
            console.write(BANNER.format(member=member))
        await console.repl(stdin_lines(), prompt if interactive else lambda _: None)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read: {exc.strerror}") from None
