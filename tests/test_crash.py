"""OPS-2: a `backline demo` killed with SIGKILL mid-stream keeps every command it answered."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.storage import Store
from tests.support.console import REPO

MEMBERS = ["alice", "bob", "chen", "dana", "eli", "fay"]
SUPPORT = {"alice", "bob", "chen"}
# Each member walks this cycle; `fav rm` always follows that member's `fav add`, so every
# command succeeds and is logged as a command event.
CYCLE = [
    ("ready", "You are ready.", "ready"),
    ("fav add {next}", "Added {next} to your favourites.", None),
    ("notready lunch", "You are not ready (lunch).", "not_ready"),
    ("fav rm {next}", "Removed {next} from your favourites.", None),
    (
        "aftercall",
        "You are in after-call work for up to 2m, then ready again; type `ready` to leave it"
        " sooner.",
        "after_call_work",
    ),
]
IN_FLIGHT = 4  # commands written ahead of the replies read
REPLY_TIMEOUT = 15.0


@dataclass(frozen=True)
class Step:
    member: str
    text: str
    reply: str
    presence: str | None


def stream(length: int) -> list[Step]:
    """Commands cycling through the members, each member walking ``CYCLE``."""
    steps = []
    for i in range(length):
        member = MEMBERS[i % len(MEMBERS)]
        nxt = "@" + MEMBERS[(i + 1) % len(MEMBERS)]
        text, reply, presence = CYCLE[(i // len(MEMBERS)) % len(CYCLE)]
        steps.append(Step(member, text.format(next=nxt), reply.format(next=nxt), presence))
    return steps


def expected_after(done: list[Step]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each member's presence and favourites after ``done``, from a fresh data folder."""
    presence = dict.fromkeys(MEMBERS, "logged_off")
    favourites: dict[str, set[str]] = {m: set() for m in MEMBERS}
    for step in done:
        if step.presence:
            presence[step.member] = step.presence
        words = step.text.split()
        if words[:2] == ["fav", "add"]:
            favourites[step.member].add(words[2])
        elif words[:2] == ["fav", "rm"]:
            favourites[step.member].discard(words[2])
    return presence, favourites


def backline_exe() -> str:
    return str(Path(sys.executable).parent / "backline")


@dataclass
class Demo:
    """`backline demo --data DIR` with a writer thread and a reader thread on its pipes."""

    proc: subprocess.Popen[str]
    replies: queue.Queue[str | None] = field(default_factory=queue.Queue)
    room: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(IN_FLIGHT))
    stop: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, data: Path, stderr: Path) -> Demo:
        with stderr.open("w") as err:
            proc = subprocess.Popen(
                [backline_exe(), "demo", "--data", str(data)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                bufsize=1,
            )
        demo = cls(proc)
        demo.threads.append(threading.Thread(target=demo._read, daemon=True))
        demo.threads[-1].start()
        return demo

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no close; then wait for both threads and close pipes."""
        self.stop.set()
        self.proc.kill()
        self.proc.wait(timeout=10)
        for thread in self.threads:
            thread.join(timeout=10)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(BrokenPipeError):  # stdin still held unsent bytes
                pipe.close()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.replies.put(line.rstrip("\n"))
        self.replies.put(None)

    def write_all(self, steps: list[Step]) -> None:
        """Write ``steps`` one line at a time, never more than ``IN_FLIGHT`` unanswered."""

        def write() -> None:
            assert self.proc.stdin is not None
            for step in steps:
                while not self.room.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return
                if self.stop.is_set():
                    return
                try:
                    self.proc.stdin.write(f"@{step.member}: {step.text}\n")
                    self.proc.stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    return
                self.sent += 1

        self.threads.append(threading.Thread(target=write, daemon=True))
        self.threads[-1].start()

    def next_reply(self) -> str:
        try:
            line = self.replies.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no reply within {REPLY_TIMEOUT} s")
        assert line is not None, "backline demo ended its output early"
        self.room.release()
        return line


def read_state(data: Path) -> dict[str, Any]:
    shown = subprocess.run(
        [backline_exe(), "state", "--data", str(data), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    state: dict[str, Any] = json.loads(shown.stdout)
    return state


@pytest.mark.parametrize("kill_after", [9, 60])
def test_sigkill_loses_no_answered_command_ops_2(kill_after: int, tmp_path: Path) -> None:
    """OPS-2: kill -9 mid-stream; every answered command is in the log and in the state."""
    data = tmp_path / "data"
    steps = stream(kill_after + 60)
    demo = Demo.start(data, tmp_path / "stderr.log")
    demo.write_all(steps)
    try:
        for step in steps[:kill_after]:
            assert demo.next_reply() == f"[@{step.member}] {step.reply}"
        deadline = time.monotonic() + REPLY_TIMEOUT
        while demo.sent <= kill_after and time.monotonic() < deadline:
            time.sleep(0.005)
        assert demo.sent > kill_after, "the kill should land while commands are in flight"
    finally:
        demo.kill()
    assert demo.proc.returncode == -9
    sent = steps[: demo.sent]

    # the command log after the crash: a prefix of what was sent, holding every answer
    store = Store(data / "backline.db")
    try:
        logged = [(e.actor, e.data["text"]) for e in store.events(kind="command")]
        favourites: dict[str, set[str]] = {m: set() for m in MEMBERS}
        for member, target in store.conn.execute("SELECT member_id, target FROM favourites"):
            favourites[member].add(target)
    finally:
        store.close()
    assert len(logged) >= kill_after
    assert logged == [(s.member, s.text) for s in sent[: len(logged)]]
    done = sent[: len(logged)]

    # the state shown after the crash is the state of exactly those commands
    presence, expected_favourites = expected_after(done)
    state = read_state(data)
    members = {m["id"]: m["presence"] for m in state["members"]}
    assert {m: members[m] for m in MEMBERS} == presence
    assert members["sam"] == members["sky"] == "logged_off"
    assert favourites == expected_favourites
    for member in MEMBERS:  # the last answered presence command holds, or a later one sent
        answered = [s.presence for s in sent[:kill_after] if s.member == member and s.presence]
        later = [s.presence for s in sent[kill_after:] if s.member == member and s.presence]
        assert members[member] in (answered[-1:] or ["logged_off"]) + later, member
    ready_in_support = sum(1 for m in SUPPORT if presence[m] == "ready")
    groups = {g["id"]: g["available"] for g in state["groups"]}
    assert groups["support"] == ready_in_support

    # and a restarted demo on the same folder carries on from there
    again = subprocess.run(
        [backline_exe(), "demo", "--data", str(data)],
        cwd=REPO,
        input="@dana: groups\n@alice: status\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert f"group:support Support — {ready_in_support} ready (now)" in again.stdout
    assert f"[@alice] You are {presence['alice'].replace('_', ' ')}" in again.stdout
