"""State machines as data: `rules/machines/*.yaml` load, bad ones are refused (RUL-1, RUL-4).

One `InteractionMachine` per kind holds every live interaction of that kind as a model;
its model container keeps adding and removing flat however many there are.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.interaction.machines import (
    CALLBACKS,
    KINDS,
    TERMINAL,
    InteractionMachine,
    MachineSpec,
    load_machines,
)
from bot.interaction.model import Interaction
from bot.rules.errors import RuleError, RulesInvalid
from tests.support.console import REPO, RULES, copy_rules

MACHINES = RULES / "machines"
MODELS = 20_000
ROUTED = ("voice", "chat", "email", "workitem", "im", "consultation")  # rung, then accepted


class _Journal:
    """Records state changes like the engine does, in a list."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str, str]] = []

    def state_changed(self, interaction: Interaction, source: str, trigger: str) -> None:
        self.changes.append((interaction.id, trigger, source, interaction.state))


def machines_copy(tmp_path: Path) -> Path:
    target = tmp_path / "machines"
    shutil.copytree(MACHINES, target)
    return target


def edit(folder: Path, file: str, old: str, new: str) -> int:
    """Replace ``old`` (unique) in ``folder/file``; the 1-based line where it starts."""
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def index_of(folder: Path, file: str, trigger: str) -> int:
    """The position of the first transition with ``trigger`` in ``folder/file``."""
    doc = yaml.safe_load((folder / file).read_text(encoding="utf-8"))
    return next(n for n, t in enumerate(doc["transitions"]) if t["trigger"] == trigger)


def errors_of(folder: Path) -> list[RuleError]:
    with pytest.raises(RulesInvalid) as caught:
        load_machines(folder)
    return caught.value.errors


# --- the shipped machines ---------------------------------------------------------------------


def test_every_shipped_machine_loads_rul_1() -> None:
    """RUL-1: one machine per kind, each with `closed`, triggers by state, callbacks by name."""
    specs = load_machines(MACHINES)
    assert set(specs) == set(KINDS)
    assert set(ROUTED) <= set(KINDS)
    assert sorted(p.stem for p in MACHINES.glob("*.yaml")) == sorted(KINDS)
    for kind, spec in specs.items():
        assert isinstance(spec, MachineSpec)
        assert spec.kind == kind
        assert TERMINAL in spec.states
        assert spec.initial in spec.states
        if kind in ROUTED:
            assert spec.initial == "queued"
            assert "ring" in spec.triggers("queued")
            assert "accept" in spec.triggers("offered")
        assert spec.triggers(TERMINAL) == []  # closed is final
        assert spec.options == {"after_state_change": "record_state"}
        assert {c for t in spec.transitions for c in _callbacks(t)} <= CALLBACKS
        machine = InteractionMachine(spec)
        assert machine.spec is spec
        assert len(machine.models) == 0


def _callbacks(transition: dict[str, object]) -> list[str]:
    names: list[str] = []
    for key in ("conditions", "unless", "before", "after", "prepare"):
        value = transition.get(key)
        if value is not None:
            names += value if isinstance(value, list) else [str(value)]
    return names


async def test_a_shipped_machine_drives_its_model_and_journals_every_change_rul_1() -> None:
    """RUL-1: the voice machine moves a call through its states; a condition gates `done`."""
    spec = load_machines(MACHINES)["voice"]
    machine = InteractionMachine(spec)
    journal = _Journal()
    call = Interaction("i1", "voice", 0.0, journal)
    machine.add_model(call)
    assert call.state == "queued"
    for trigger in ("ring", "accept", "hold", "resume", "end"):
        assert await call.trigger(trigger)
    assert call.state == "wrapup"
    assert journal.changes[-1] == ("i1", "end", "active", "wrapup")
    assert [c[1] for c in journal.changes] == ["ring", "accept", "hold", "resume", "end"]
    # `done` needs all_done: nobody handled it here, so it may close
    assert await call.trigger("done")
    assert call.state == TERMINAL
    machine.remove_model(call)
    assert call not in machine.models


# --- bad machine files ------------------------------------------------------------------------


def test_an_unknown_state_in_a_transition_is_refused_with_file_line_key_rul_1(
    tmp_path: Path,
) -> None:
    """RUL-1: `dest: actve` names chat.yaml, its line and `transitions[2].dest`."""
    folder = machines_copy(tmp_path)
    line = edit(
        folder,
        "chat.yaml",
        "{trigger: accept, source: offered, dest: active}",
        "{trigger: accept, source: offered, dest: actve}",
    )
    index = index_of(folder, "chat.yaml", "accept")
    errors = errors_of(folder)
    assert [str(e) for e in errors] == [
        f"{folder / 'chat.yaml'}:{line}: transitions[{index}].dest: unknown state 'actve'"
    ]
    assert (errors[0].file, errors[0].line, errors[0].key) == (
        str(folder / "chat.yaml"),
        line,
        f"transitions[{index}].dest",
    )


def test_an_unknown_source_state_is_refused_rul_1(tmp_path: Path) -> None:
    """RUL-1: a source list naming a state the machine lacks."""
    folder = machines_copy(tmp_path)
    line = edit(
        folder,
        "email.yaml",
        "{trigger: end, source: [queued, offered, active], dest: wrapup}",
        "{trigger: end, source: [queued, ofered, active], dest: wrapup}",
    )
    index = index_of(folder, "email.yaml", "end")
    (error,) = errors_of(folder)
    assert (error.line, error.key) == (line, f"transitions[{index}].source")
    assert error.message == "unknown state 'ofered'"


def test_an_unknown_callback_name_is_refused_rul_1(tmp_path: Path) -> None:
    """RUL-1: conditions and callbacks must name Interaction methods (all_done, is_voice, …)."""
    folder = machines_copy(tmp_path)
    line = edit(
        folder,
        "voice.yaml",
        "dest: closed, conditions: all_done}",
        "dest: closed, conditions: all_dun}",
    )
    after = edit(folder, "im.yaml", "after_state_change: record_state", "after_state_change: shout")
    index = index_of(folder, "voice.yaml", "done")
    errors = errors_of(folder)
    by_file = {Path(e.file).name: e for e in errors}
    assert set(by_file) == {"voice.yaml", "im.yaml"}
    assert (by_file["voice.yaml"].line, by_file["voice.yaml"].key) == (
        line,
        f"transitions[{index}].conditions",
    )
    assert by_file["voice.yaml"].message.startswith("unknown callback 'all_dun'; known: all_done")
    assert (by_file["im.yaml"].line, by_file["im.yaml"].key) == (after, "after_state_change")
    assert "unknown callback 'shout'" in by_file["im.yaml"].message


def test_a_machine_without_closed_is_refused_rul_1(tmp_path: Path) -> None:
    """RUL-1: every machine needs the terminal state `closed` (and transitions into it fail)."""
    folder = machines_copy(tmp_path)
    edit(folder, "workitem.yaml", "  - closed\n", "")
    errors = errors_of(folder)
    assert {Path(e.file).name for e in errors} == {"workitem.yaml"}
    states = [e for e in errors if e.key == "states"]
    assert len(states) == 1
    assert states[0].message == "every machine needs the terminal state 'closed'"
    assert states[0].line == 4
    assert [e.message for e in errors if e.key.endswith(".dest")] == ["unknown state 'closed'"]


def test_a_transition_out_of_closed_is_refused_rul_1(tmp_path: Path) -> None:
    """RUL-1: `closed` is terminal; a transition that would reopen a closed interaction fails
    the check, with its line (the store indexes live interactions by a flag set on close)."""
    folder = machines_copy(tmp_path)
    line = edit(
        folder,
        "workitem.yaml",
        "  - {trigger: done, source: wrapup, dest: closed, conditions: all_done}\n",
        "  - {trigger: done, source: wrapup, dest: closed, conditions: all_done}\n"
        "  - {trigger: reopen, source: closed, dest: active}\n",
    )
    index = index_of(folder, "workitem.yaml", "reopen")
    errors = errors_of(folder)
    assert [(Path(e.file).name, e.key, e.message) for e in errors] == [
        (
            "workitem.yaml",
            f"transitions[{index}].dest",
            "'closed' is terminal: a closed interaction never reopens",
        )
    ]
    assert errors[0].line == line + 1


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        (
            "email.yaml",
            "initial: queued\n",
            "initial: queued\nauto_transitions: true\n",
            "auto_transitions",
        ),
        (
            "chat.yaml",
            "{trigger: ring, source: queued, dest: offered}",
            "{trigger: ring, source: queued, dest: offered, guard: all_done}",
            "transitions[0].guard",
        ),
    ],
)
def test_an_unknown_key_is_refused_rul_1(
    tmp_path: Path, file: str, old: str, new: str, key: str
) -> None:
    """RUL-1: keys outside the `transitions` dict shape are named with their line."""
    folder = machines_copy(tmp_path)
    line = edit(folder, file, old, new)
    (error,) = errors_of(folder)
    assert Path(error.file).name == file
    assert error.key == key
    assert error.line in (line, line + 1)
    assert error.message.startswith("unknown key; expected one of:")


def test_a_missing_kind_file_and_a_stray_one_are_refused_rul_1(tmp_path: Path) -> None:
    """RUL-1: each kind needs its file; a file for no kind is an error too."""
    folder = machines_copy(tmp_path)
    (folder / "im.yaml").unlink()
    shutil.copy(folder / "chat.yaml", folder / "fax.yaml")
    errors = errors_of(folder)
    assert [str(e) for e in errors] == [
        f"{folder / 'im.yaml'}: missing: every kind needs a machine (im)",
        f"{folder / 'fax.yaml'}: unknown kind; expected one of: {', '.join(KINDS)}",
    ]


def test_a_bad_initial_state_and_a_missing_dest_are_refused_rul_1(tmp_path: Path) -> None:
    """RUL-1: `initial` must be a state; a transition must say where it goes (or null)."""
    folder = machines_copy(tmp_path)
    initial = edit(folder, "im.yaml", "initial: queued", "initial: nowhere")
    dest = edit(
        folder,
        "consultation.yaml",
        "{trigger: ring, source: queued, dest: offered}",
        "{trigger: ring, source: queued}",
    )
    errors = {Path(e.file).name: e for e in errors_of(folder)}
    assert (errors["im.yaml"].line, errors["im.yaml"].key) == (initial, "initial")
    assert errors["im.yaml"].message.startswith("expected one of the states: queued, offered")
    assert (errors["consultation.yaml"].line, errors["consultation.yaml"].key) == (
        dest,
        "transitions[0].dest",
    )


# --- the CLI refuses a rules folder with a broken machine -------------------------------------


def _backline(*args: str | Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "backline"
    assert exe.exists(), "the `backline` console script is not installed"
    return subprocess.run(
        [str(exe), *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rules_check_rejects_a_broken_machine_and_the_bot_does_not_start_rul_1_rul_4(
    tmp_path: Path,
) -> None:
    """RUL-1 / RUL-4: `backline rules check` exits 1 naming the machine file; demo won't run."""
    rules = copy_rules(tmp_path)
    line = edit(
        rules / "machines",
        "voice.yaml",
        "{trigger: hold, source: active, dest: held}",
        "{trigger: hold, source: active, dest: parked}",
    )
    index = index_of(rules / "machines", "voice.yaml", "hold")
    checked = _backline("rules", "check", rules)
    assert checked.returncode == 1
    assert (
        f"{rules / 'machines' / 'voice.yaml'}:{line}: transitions[{index}].dest: "
        "unknown state 'parked'" in checked.stderr.splitlines()
    )
    assert "1 problem(s); the bot would not start." in checked.stderr
    assert "rules are valid" not in checked.stdout

    script = tmp_path / "script.txt"
    script.write_text("@alice: ready\n", encoding="utf-8")
    demo = _backline("demo", "--rules", rules, "--data", tmp_path / "data", "--script", script)
    assert demo.returncode == 1
    assert "The rules are invalid; backline did not start:" in demo.stderr
    assert "unknown state 'parked'" in demo.stderr
    assert "[@alice] You are ready." not in demo.stdout
    assert not (tmp_path / "data" / "backline.db").exists()


# --- many models on one machine ---------------------------------------------------------------


async def test_one_machine_holds_and_drops_many_models_rul_1() -> None:
    """RUL-1: 20,000 interactions join one machine and leave it; each stays a working model."""
    spec = load_machines(MACHINES)["chat"]
    machine = InteractionMachine(spec)
    journal = _Journal()
    chats = [Interaction(f"i{n}", "chat", 0.0, journal) for n in range(MODELS)]
    gc.disable()  # many short-lived partials: keep the collector from dominating the run
    try:
        for chat in chats:
            machine.add_model(chat)
    finally:
        gc.enable()
    assert len(machine.models) == MODELS
    assert chats[0] in machine.models and chats[-1] in machine.models
    assert {c.state for c in chats} == {"queued"}

    middle = chats[MODELS // 2]
    assert await middle.trigger("ring")
    assert middle.state == "offered"
    assert journal.changes == [(middle.id, "ring", "queued", "offered")]

    # adding a model twice keeps one entry; removal in any order empties the machine
    machine.add_model(middle)
    assert len(machine.models) == MODELS
    for chat in chats[::2]:
        machine.remove_model(chat)
    assert len(machine.models) == MODELS // 2
    assert chats[0] not in machine.models and chats[1] in machine.models
    for chat in reversed(chats[1::2]):
        machine.remove_model(chat)
    assert len(machine.models) == 0
    assert list(machine.models) == []
