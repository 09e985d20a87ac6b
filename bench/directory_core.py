"""The directory bench's whole-product half: start-up, `find` through ``Core.handle``, reload.

A rules folder holds the demo rules plus N synthetic members (one flow mapping a line, as a
generated directory would be written). It is opened once (the first import), opened again
(a restart: the figure the start-up target is about), searched through the full command
path, then edited (renames, additions, removals) and reloaded the way SIGHUP does while a
10 ms probe measures loop lag and a member's `ready` is timed.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.clock import FakeClock
from bot.core import Core
from bot.directory.model import DirectoryData, Member
from bot.events import Command
from bot.loop_watch import PauseWatch

ROOT = Path(__file__).resolve().parents[1]
SEARCHER = "sam"  # the demo's admin: any member may search


@dataclass(frozen=True)
class Edit:
    """What the reload changes: member ids renamed, added and removed."""

    renamed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


def member_line(m: Member, name: str | None = None) -> str:
    fields: dict[str, object] = {"id": m.id, "name": name or m.name}
    if m.handles:
        fields["handles"] = dict(m.handles)
    return "  - " + json.dumps(fields)


def write_directory(path: Path, data: DirectoryData, edit: Edit | None = None) -> None:
    """The demo directory with the synthetic members appended (and ``edit`` applied)."""
    demo = (ROOT / "rules" / "directory.yaml").read_text(encoding="utf-8")
    head, tail = demo.split("\nmembers:\n", 1)
    sections = tail.split("\ngroups:\n", 1)
    renamed = set(edit.renamed) if edit else set()
    removed = set(edit.removed) if edit else set()
    lines = [
        member_line(m, f"Renamed {m.name}" if m.id in renamed else None)
        for m in data.members.values()
        if m.id not in removed
    ]
    if edit:
        lines += [f'  - {{"id": "{mid}", "name": "Newcomer {mid}"}}' for mid in edit.added]
    text = f"{head}\nmembers:\n{sections[0]}\n" + "\n".join(lines) + "\ngroups:\n" + sections[1]
    path.write_text(text, encoding="utf-8")


def make_rules(folder: Path, data: DirectoryData) -> Path:
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    write_directory(rules / "directory.yaml", data)
    return rules


def make_edit(data: DirectoryData, rng: random.Random, share: float) -> Edit:
    """About ``share`` of the members renamed, half as many added and removed."""
    ids = list(data.members)
    n = max(1, int(len(ids) * share))
    picked = rng.sample(ids, k=min(len(ids), n + n // 2))
    added = tuple(f"new{i:06d}" for i in range(max(1, n // 2)))
    return Edit(tuple(picked[:n]), added, tuple(picked[n:]))


def timed_open(rules: Path, database: Path) -> tuple[Core, float]:
    start = time.perf_counter()
    core = Core.open(rules, database, FakeClock())
    return core, time.perf_counter() - start


async def time_finds(core: Core, queries: Sequence[str]) -> list[int]:
    samples = []
    for text in queries:
        start = time.perf_counter_ns()
        await core.handle(Command("console", SEARCHER, f"find {text}"))
        samples.append(time.perf_counter_ns() - start)
    return samples


@dataclass(frozen=True)
class Reloaded:
    """A reload as the loop saw it."""

    seconds: float
    worst_lag: float
    worst_ready: float
    readies: int
    problems: list[str]


async def reload_while_serving(core: Core, member: str) -> Reloaded:
    """`reload` as SIGHUP runs it, with `ready`/`not ready` answered every 20 ms meanwhile."""
    watch = PauseWatch(core.metrics)
    watch.start()
    answers: list[float] = []
    task = asyncio.create_task(core.reload())
    start = time.perf_counter()
    states = ("ready", "not ready")
    while not task.done():
        asked = time.perf_counter()
        await core.handle(Command("console", member, states[len(answers) % 2]))
        answers.append(time.perf_counter() - asked)
        await asyncio.sleep(0.02)
    problems = await task
    seconds = time.perf_counter() - start
    await watch.stop()
    return Reloaded(seconds, watch.worst_lag, max(answers, default=0.0), len(answers), problems)


def directory_writes(core: Core) -> int:
    """Rows changed on the connection so far (sqlite's ``total_changes``)."""
    return core.store.conn.total_changes
