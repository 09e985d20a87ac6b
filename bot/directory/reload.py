"""Reloading the rules while commands go on: parse and plan off the loop, write in steps.

Of the two ways to keep a long load off the event loop, this one prepares every row in a
worker thread and writes them on the loop in bounded steps (``Directory.write_steps``),
each its own short transaction under the store lock, so a command never interleaves with
a step on the shared connection and a command waits at most one step. Building into a
second database and copying it in was the other way; the copy itself (FTS index included)
would hold the loop for as long as the rows take to write. The steps touch only rows no
command reads back on its own, and the swap is one short transaction that makes memory
and the last rows current together.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.directory.plan import Plan, plan_load
from bot.directory.quiet import collector_paused, switching_often
from bot.rules.check import Rules, load_rules
from bot.rules.errors import RulesInvalid

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger("backline.reload")
Progress = Callable[[Plan], Awaitable[None]]


async def reload_in_steps(core: Core, progress: Progress | None = None) -> list[str]:
    """Reload ``core``'s rules folder; the problems found, or an empty list once swapped.

    ``progress`` hears the plan of a changed directory before its rows are written.
    """
    directory = core.directory
    with worker_friendly():
        rules = await asyncio.to_thread(read_rules, core)
    if isinstance(rules, list):
        return rules
    stranded = core.engine.unplaceable(rules.machines)
    if stranded:
        return stranded
    plan = None
    index_groups = rules.policy.groups.searchable
    if directory.synced and not directory.unchanged(rules.directory_digest, index_groups):
        await directory.until_indexed()  # the plan changes the index as it stands
        plan = await _plan(core, rules)
        if progress is not None:
            await progress(plan)
        await directory.write_steps(plan, core.store.lock)

    async def finish() -> list[str]:
        if not directory.synced:  # a load failed half way: check it all against the store
            directory.load(
                rules.directory, index_groups=index_groups, digest=rules.directory_digest
            )
        return core.use_rules(rules, plan)

    return await core.act(finish)


def read_rules(core: Core) -> Rules | list[str]:
    """``core``'s rules folder read again (the directory only if its file changed).

    Safe in a worker thread: it reads files and the directory's immutable snapshot.
    Invalid rules give their problems, each naming file and line (RUL-5).
    """
    try:
        return load_rules(core.rules.folder, known=core.directory.known)
    except RulesInvalid as exc:
        log.warning("rules reload refused: %s", exc)
        return [str(e) for e in exc.errors]


async def _plan(core: Core, rules: Rules) -> Plan:
    async with core.store.lock:  # a consistent view: no command half way through
        before, links, now = core.directory.before(), core.directory.links(), core.clock.now()
    source = (rules.directory_digest, rules.policy.groups.searchable)
    with worker_friendly():
        return await asyncio.to_thread(
            plan_load, before, rules.directory, source, links, now, bulk=False
        )


@contextmanager
def worker_friendly() -> Iterator[None]:
    """While a worker thread builds a large directory, keep the loop's pauses short.

    The collector stays off (its full collections would walk every object the worker
    just made, with every thread stopped; the reload's ``heap.refreeze`` then freezes them
    without a walk), and the interpreter hands the GIL over more often, so the loop waits
    a fraction of a millisecond for it instead of up to 5 ms at each SQLite call.
    """
    collecting = gc.isenabled()
    with collector_paused(), switching_often():
        try:
            yield
        finally:
            if collecting:  # frozen before the collector runs again: never walked
                gc.freeze()


def describe(plan: Plan) -> str:
    """What a planned reload changes, for the admin who asked for it."""
    rows = sum(len(write.rows) for write in (*plan.steps, *plan.final))
    gone, new = len(plan.removed), len(plan.added)
    return (
        f"Rules read and checked: {len(plan.data.members):,} members, {new:,} new,"
        f" {plan.changed - new:,} changed, {gone:,} gone; writing {rows:,} rows in steps"
        " while commands go on."
    )
