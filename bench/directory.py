"""Directory benchmark: search, group counts, start-up, `find` through the core, reload.

Run as ``python bench/directory.py [--members N] [--queries Q] [--changes C]``.

1. ``Directory.search`` over a mix of query kinds against a full-table ``LIKE '%q%'`` scan
   of the same database, on a synthetic directory in a temporary SQLite file;
2. C presence changes (one transaction each, as commands do), then every group's
   available count checked exact (GRP-2);
3. the same members as a rules folder: the first start-up (the import), a restart (the
   start-up target), `find` through ``Core.handle`` against the search function alone,
   then an edited directory reloaded as SIGHUP does while `ready` is answered and a 10 ms
   probe measures loop lag, and an unchanged file reloaded (it must write nothing).

Every target is printed with its verdict; the exit code is 1 when any is missed. Each
limit is an option, so a test can pass an impossible one and see the exit code follow.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.directory.loader import link_membership  # noqa: E402
from bot.directory.model import DirectoryData, Group, GroupKind, Mailbox, Member, Role  # noqa: E402
from bot.directory.presence import PresenceState  # noqa: E402
from bot.directory.service import Directory  # noqa: E402
from bot.storage import Store  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from directory_core import (  # noqa: E402
    SEARCHER,
    directory_writes,
    make_edit,
    make_rules,
    reload_while_serving,
    time_finds,
    timed_open,
    write_directory,
)
from targets import TIMES, Target, verdict  # noqa: E402

SEARCH_TARGET_MS = 5.0
FIND_TARGET_MS = 5.0
STARTUP_TARGET_S = 5.0
RELOAD_TARGET_S = 5.0
LAG_TARGET_MS = 100.0


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = words(
    "Aaliyah Adam Aisha Alba Alejandro Amara Anna Arjun Astrid Beatriz Bjorn Bruno Camille"
    " Carlos Chiara Chloe Daniel Dmitri Elena Elif Emma Farah Felix Freya Gabriel Grace Hana"
    " Hugo Ibrahim Ines Isaac Ivan Jakob Jasmine Joao Julia Kai Karim Keiko Lars Leila Liam"
    " Lucia Luca Maya Mateo Mei Mohammed Nadia Noah Nora Olga Omar Oscar Priya Rafael Rosa"
    " Sami Sofia Tariq Theo Uma Victor Wei Yara Yusuf Zara Zoe"
)
LAST_ROOTS = words(
    "Ander Ash Bald Barn Berg Black Brad Brook Carl Chester Cole Dahl Eck Elm Fair Falk"
    " Fitz Ford Gold Green Hag Hart Hol Horn Karl Kirk Lind Mac Mont North Oak Pem Rad Ried"
    " Ross Sand Stein Stone Thorn Wald West Whit Win"
)
LAST_SUFFIXES = words(
    "son sen berg strom man mann ley ton wood field worth ham ridge stad holm well"
)
GROUP_WORDS = words("Support Billing Sales Claims Retention Onboarding Returns Payments Fraud Tech")
SKILLS = ("spanish", "french", "german", "arabic", "mandarin", "escalations")
STATES = (
    PresenceState.READY,
    PresenceState.NOT_READY,
    PresenceState.AFTER_CALL_WORK,
    PresenceState.LOGGED_OFF,
)
STATE_WEIGHTS = (4, 3, 1, 2)
REASONS = ("lunch", "break", "training", "meeting")


# -- output --------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def ms(ns: float) -> float:
    return ns / 1e6


def percentile(sorted_ns: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile of already sorted samples, in ms."""
    if not sorted_ns:
        return 0.0
    rank = max(1, min(len(sorted_ns), math.ceil(pct / 100 * len(sorted_ns))))
    return ms(sorted_ns[rank - 1])


@dataclass(frozen=True)
class Stats:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[int]) -> Stats:
        s = sorted(samples)
        return cls(
            len(s), percentile(s, 50), percentile(s, 95), percentile(s, 99), ms(s[-1]) if s else 0.0
        )

    def row(self, label: str) -> str:
        return (
            f"  {label:<14} {self.n:>5} {self.p50:>8.3f} {self.p95:>8.3f}"
            f" {self.p99:>8.3f} {self.max:>8.3f}"
        )


HEADER = f"  {'kind':<14} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms)"


# -- synthetic directory -------------------------------------------------------------------


def last_names() -> list[str]:
    return [root + suffix for root in LAST_ROOTS for suffix in LAST_SUFFIXES]


def slack_handle(rng: random.Random) -> str:
    return "U" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=10))


def make_member(index: int, rng: random.Random, lasts: Sequence[str]) -> Member:
    first, last = rng.choice(FIRST_NAMES), rng.choice(lasts)
    handles: dict[str, str] = {}
    if rng.random() < 0.7:
        handles["slack"] = slack_handle(rng)
    if rng.random() < 0.3:
        handles["xmpp"] = f"{first.lower()}.{last.lower()}{index}@chat.example.org"
    return Member(f"m{index:06d}", f"{first} {last}", frozenset({Role.AGENT}), handles)


def make_groups(member_ids: Sequence[str], rng: random.Random) -> dict[str, Group]:
    n_groups = max(1, len(member_ids) // 500)
    teams: list[list[str]] = [[] for _ in range(n_groups)]
    skills: dict[str, list[str]] = {s: [] for s in SKILLS}
    for mid in member_ids:
        for g in rng.sample(range(n_groups), k=min(n_groups, rng.choice((1, 1, 2)))):
            teams[g].append(mid)
        for skill in rng.sample(SKILLS, k=rng.choice((0, 0, 1, 2))):
            skills[skill].append(mid)
    groups = [
        Group(f"g{i}", GroupKind.GROUP, f"{GROUP_WORDS[i % len(GROUP_WORDS)]} {i}", tuple(ids))
        for i, ids in enumerate(teams)
    ] + [Group(s, GroupKind.SKILL, s.capitalize(), tuple(ids)) for s, ids in skills.items()]
    return {g.ref: g for g in groups}


def make_data(n_members: int, rng: random.Random) -> DirectoryData:
    lasts = last_names()
    members = {m.id: m for m in (make_member(i, rng, lasts) for i in range(n_members))}
    groups = make_groups(list(members), rng)
    linked = link_membership(members, groups)
    mailboxes = {mid: Mailbox(mid, mid) for mid in linked}
    return DirectoryData(linked, groups, mailboxes)


# -- queries -------------------------------------------------------------------------------

QueryMaker = Callable[[random.Random, DirectoryData], str]


def _member(rng: random.Random, data: DirectoryData) -> Member:
    return data.members[f"m{rng.randrange(len(data.members)):06d}"]


def _handle(rng: random.Random, data: DirectoryData) -> str:
    for _ in range(100):
        handles = list(_member(rng, data).handles.values())
        if handles:
            return rng.choice(handles)
    return _member(rng, data).id


def _middle(rng: random.Random, data: DirectoryData) -> str:
    last = _member(rng, data).name.split()[1].lower()
    start = rng.randrange(1, max(2, len(last) - 4))
    return last[start : start + 4]


def _first_last(rng: random.Random, data: DirectoryData) -> str:
    first, last = _member(rng, data).name.split()
    return f"{first} {last[: rng.randrange(2, 5)]}"


def _nothing(rng: random.Random, data: DirectoryData) -> str:
    return "".join(rng.choices("qxzjv", k=rng.randrange(5, 8)))


QUERY_KINDS: dict[str, QueryMaker] = {
    "prefix-1": lambda rng, data: rng.choice(FIRST_NAMES)[:1].lower(),
    "prefix-2": lambda rng, data: rng.choice(FIRST_NAMES)[:2].lower(),
    "prefix-3": lambda rng, data: rng.choice(FIRST_NAMES)[:3].lower(),
    "first-name": lambda rng, data: rng.choice(FIRST_NAMES),
    "exact-id": lambda rng, data: _member(rng, data).id,
    "exact-handle": _handle,
    "first+last-pfx": _first_last,
    "contains-4": _middle,
    "no-match": _nothing,
}


def make_queries(count: int, rng: random.Random, data: DirectoryData) -> list[tuple[str, str]]:
    kinds = list(QUERY_KINDS)
    return [
        (kinds[i % len(kinds)], QUERY_KINDS[kinds[i % len(kinds)]](rng, data)) for i in range(count)
    ]


# -- timing --------------------------------------------------------------------------------

Runner = Callable[[str], object]


def time_queries(run: Runner, queries: Sequence[tuple[str, str]]) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {}
    for kind, text in queries:
        start = time.perf_counter_ns()
        run(text)
        samples.setdefault(kind, []).append(time.perf_counter_ns() - start)
    return samples


def report(title: str, samples: dict[str, list[int]]) -> Stats:
    print(title)
    print(HEADER)
    for kind, values in samples.items():
        print(Stats.of(values).row(kind))
    overall = Stats.of([v for values in samples.values() for v in values])
    print(overall.row("all"))
    return overall


def prepare_searcher(directory: Directory, data: DirectoryData, rng: random.Random) -> str:
    """A member with a few favourites and recents, as a real searcher has."""
    me = "m000000"
    with directory.store.transaction():
        for member in rng.sample(list(data.members.values()), k=min(8, len(data.members))):
            if rng.random() < 0.4:
                directory.contacts.add_favourite(me, member.ref)
            else:
                directory.contacts.record_contact(me, member.ref)
    return me


def bench_search(
    directory: Directory, data: DirectoryData, args: argparse.Namespace, rng: random.Random
) -> tuple[Stats, Stats]:
    me = prepare_searcher(directory, data, rng)
    queries = make_queries(args.queries, rng, data)
    warmup = make_queries(min(args.queries, 300), rng, data)
    conn = directory.store.conn
    like = "SELECT ref FROM entries WHERE words LIKE '%' || ? || '%' LIMIT 10"

    def backline(text: str) -> object:
        return directory.search(me, text)

    def baseline(text: str) -> object:
        return conn.execute(like, (text,)).fetchall()

    progress(f"warming up with {len(warmup)} queries")
    time_queries(backline, warmup)
    time_queries(baseline, warmup)
    progress(f"timing {len(queries)} queries (backline, then baseline)")
    ours = report("search: Directory.search (page 1, 10 per page)", time_queries(backline, queries))
    theirs = report(
        "baseline: SELECT ref FROM entries WHERE words LIKE '%q%' LIMIT 10",
        time_queries(baseline, queries),
    )
    print(
        f"speed-up: p50 {theirs.p50 / max(ours.p50, 1e-6):.1f}{TIMES} faster,"
        f" p99 {theirs.p99 / max(ours.p99, 1e-6):.1f}{TIMES} faster"
    )
    return ours, theirs


# -- presence ------------------------------------------------------------------------------


def change_presence(directory: Directory, rng: random.Random, member_id: str) -> None:
    """One change as a command makes it: in its own transaction."""
    with directory.store.transaction():
        if rng.random() < 0.25:
            directory.set_busy(member_id, not directory.presence(member_id).busy)
        else:
            state = rng.choices(STATES, STATE_WEIGHTS)[0]
            reason = rng.choice(REASONS) if state is PresenceState.NOT_READY else None
            directory.set_presence(member_id, state, reason)


def bench_presence(
    directory: Directory, data: DirectoryData, changes: int, rng: random.Random
) -> None:
    # A shift: members change several times each, so busy toggles hit ready members too.
    pool = rng.sample(list(data.members), k=max(1, min(len(data.members), changes // 4)))
    progress(f"applying {changes} presence changes over {len(pool)} members")
    start = time.perf_counter_ns()
    for _ in range(changes):
        change_presence(directory, rng, rng.choice(pool))
    seconds = (time.perf_counter_ns() - start) / 1e9
    rate = changes / seconds if seconds else float("inf")
    print(
        f"presence: {changes} changes in {seconds:.2f} s = {rate:,.0f} changes/s"
        " (one transaction each)"
    )


def count_mismatches(directory: Directory) -> list[str]:
    kept, recounted = directory.counts(), directory.recount()
    stored = dict(directory.store.conn.execute("SELECT id, available FROM groups").fetchall())
    refs = sorted(set(kept) | set(recounted) | set(stored))
    return [
        f"  {ref}: counts()={kept.get(ref)} recount()={recounted.get(ref)} db={stored.get(ref)}"
        for ref in refs
        if not (kept.get(ref) == recounted.get(ref) == stored.get(ref))
    ]


def check_counts(directory: Directory) -> bool:
    mismatches = count_mismatches(directory)
    total = sum(directory.counts().values())
    if mismatches:
        print(f"group counts: {len(mismatches)} MISMATCHES")
        print("\n".join(mismatches[:20]))
        return False
    print(
        f"group counts: OK ({len(directory.counts())} groups and skills,"
        f" {total} available memberships; counts() == recount() == groups.available)"
    )
    return True


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edit-share", type=float, default=0.01, help="members renamed")
    parser.add_argument("--search-ms", type=float, default=SEARCH_TARGET_MS, help="target")
    parser.add_argument("--find-ms", type=float, default=FIND_TARGET_MS, help="target")
    parser.add_argument("--startup-s", type=float, default=STARTUP_TARGET_S, help="target")
    parser.add_argument("--reload-s", type=float, default=RELOAD_TARGET_S, help="target")
    parser.add_argument("--lag-ms", type=float, default=LAG_TARGET_MS, help="target")
    return parser.parse_args(argv)


def build(
    path: Path, args: argparse.Namespace, rng: random.Random
) -> tuple[Directory, DirectoryData]:
    progress(f"building {args.members} synthetic members")
    start = time.perf_counter()
    data = make_data(args.members, rng)
    made = time.perf_counter()
    progress("loading the directory and building the search index")
    directory = Directory(Store(path), FakeClock(), data)
    directory.wait_indexed()  # a large directory's index is written by a worker
    loaded = time.perf_counter()
    size = sum(
        _size(path.with_name(path.name + end)) for end in ("", "-wal", ".search", ".search-wal")
    )
    skills = sum(1 for g in data.groups.values() if g.kind is GroupKind.SKILL)
    print(
        f"directory: {len(data.members)} members, {len(data.groups) - skills} groups,"
        f" {skills} skills"
    )
    print(
        f"build: data {made - start:.2f} s, load + index {loaded - made:.2f} s"
        f" (database {size / 1e6:.1f} MB)"
    )
    return directory, data


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def bench_core(
    folder: Path, data: DirectoryData, args: argparse.Namespace, rng: random.Random
) -> list[Target]:
    """Start-up, `find` through ``Core.handle`` and reload, on a rules folder of ``data``."""
    rules, database = make_rules(folder, data), folder / "core.db"
    progress(f"first start-up: importing {len(data.members)} members")
    core, first = timed_open(rules, database)
    core.directory.wait_indexed()  # the restart below then finds the index written
    core.store.close()
    progress("restart with the same directory file")
    core, restart = timed_open(rules, database)
    print(f"start-up: first import {first:.2f} s, restart {restart:.2f} s")
    try:
        queries = [text for _, text in make_queries(args.queries, rng, data)]
        await time_finds(core, queries[: min(len(queries), 300)])  # warm-up
        progress(f"timing {len(queries)} finds through Core.handle")
        finds = report("find through Core.handle", {"find": await time_finds(core, queries)})
        alone = report(
            "search function alone (same queries)",
            time_queries(lambda text: core.directory.search(SEARCHER, text), zip_kind(queries)),
        )
        print(f"command path: p99 {finds.p99 / max(alone.p99, 1e-6):.1f}{TIMES} the search alone")
        edit = make_edit(data, rng, args.edit_share)
        write_directory(rules / "directory.yaml", data, edit)
        progress(
            f"reloading: {len(edit.renamed)} renamed, {len(edit.added)} added,"
            f" {len(edit.removed)} removed"
        )
        changed = await reload_while_serving(core, "alice")
        renamed = edit.renamed[0]
        took = f"Renamed {data.members[renamed].name}" == core.directory.member(renamed).name
        print(
            f"reload (edited file): {changed.seconds:.2f} s, max loop lag"
            f" {changed.worst_lag * 1000:.1f} ms, slowest of {changed.readies} `ready`"
            f" {changed.worst_ready * 1000:.1f} ms, took effect: {took}"
            + (f", problems: {changed.problems}" if changed.problems else "")
        )
        before = directory_writes(core)
        start = time.perf_counter()
        same = await core.reload()
        unchanged = time.perf_counter() - start
        written = directory_writes(core) - before
        print(f"reload (unchanged file): {unchanged:.3f} s, {written} rows written")
    finally:
        core.store.close()
    return [
        Target("start-up (restart)", restart, args.startup_s, "s"),
        Target("find through Core.handle p99", finds.p99, args.find_ms, "ms"),
        Target("reload", changed.seconds, args.reload_s, "s"),
        Target("reload max loop lag", changed.worst_lag * 1000, args.lag_ms, "ms", 1),
        Target(
            "reload problems", float(len(changed.problems + same) + (not took)), 1, "problems", 0
        ),
        Target("unchanged reload writes", float(written), 1, "rows", 0),
    ]


def zip_kind(queries: Sequence[str]) -> list[tuple[str, str]]:
    return [("search", text) for text in queries]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="backline-bench-") as tmp:
        directory, data = build(Path(tmp) / "bench.db", args, rng)
        try:
            ours, _ = bench_search(directory, data, args, rng)
            bench_presence(directory, data, args.changes, rng)
            mismatches = len(count_mismatches(directory))
            check_counts(directory)
        finally:
            directory.store.close()
        targets = asyncio.run(bench_core(Path(tmp), data, args, rng))
    print(f"group counts exact after {args.changes} changes: {'FAIL' if mismatches else 'PASS'}")
    return verdict(
        [
            Target("search p99", ours.p99, args.search_ms, "ms"),
            Target("group counts wrong", float(mismatches), 1, "groups", 0),
            *targets,
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
