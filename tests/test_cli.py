"""The `backline` command as a user runs it: demo, state and `rules check` (ADP-1, RUL-4, OPS-2)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.console import REPO, RULES, copy_rules

SCHEMA = json.loads((REPO / "tests" / "schemas" / "state.schema.json").read_text("utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
DEMO_MEMBERS = ["alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky"]


def backline_exe() -> str:
    """The installed console script of this venv (the `bot.cli` module has no `__main__`)."""
    beside = Path(sys.executable).parent / "backline"
    found = str(beside) if beside.exists() else shutil.which("backline")
    assert found, "the `backline` console script is not installed (pip install -e .)"
    return found


def backline(
    *args: str | Path, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `backline ARGS` from the repository root, as a user would."""
    return subprocess.run(
        [backline_exe(), *map(str, args)],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def schema_errors(state: object) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(state)]


def presence_of(state: dict[str, Any]) -> dict[str, str]:
    return {m["id"]: m["presence"] for m in state["members"]}


def available_of(state: dict[str, Any]) -> dict[str, int]:
    return {g["id"]: g["available"] for g in state["groups"]}


# --- the state schema itself --------------------------------------------------------------


def test_state_schema_accepts_a_full_state_and_rejects_mistakes() -> None:
    """The schema the other tests validate against has teeth: it refuses each kind of mistake."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    full: dict[str, Any] = {
        "members": [{"id": "alice", "presence": "not_ready", "roles": ["agent", "admin"]}],
        "groups": [{"id": "support", "available": 2}],
        "interactions": [
            {
                "id": "c1",
                "kind": "voice",
                "state": "talking",
                "owner": "@alice",
                "parent": None,
                "parties": [
                    {"who": "customer:Ann Lee", "role": "customer", "connected": True},
                    {"who": "@alice", "role": "owner", "connected": True},
                    {"who": "@sam", "role": "monitor", "connected": False},
                ],
            }
        ],
        "inbox": {"alice": [{"id": 3, "priority": "urgent", "status": "new", "text": "SIP down"}]},
        "mailboxes": {"alice": {"new": 1, "old": 0}, "support": {"new": 0, "old": 4}},
    }
    assert schema_errors(full) == []

    def broken(change: Callable[[dict[str, Any]], None]) -> list[str]:
        state = json.loads(json.dumps(full))
        change(state)
        return schema_errors(state)

    assert broken(lambda s: s["members"][0].update(presence="asleep"))
    assert broken(lambda s: s["members"][0].update(roles=["wizard"]))
    assert broken(lambda s: s["members"][0].update(colour="blue"))
    assert broken(lambda s: s["groups"][0].update(available="2"))
    assert broken(lambda s: s["interactions"][0].update(kind="fax"))
    assert broken(lambda s: s["interactions"][0]["parties"][0].update(who="Ann"))
    assert broken(lambda s: s["interactions"][0]["parties"][0].update(role="spy"))
    assert broken(lambda s: s["inbox"]["alice"][0].update(priority="meh"))
    assert broken(lambda s: s["inbox"]["alice"][0].update(status="deleted"))
    assert broken(lambda s: s["mailboxes"]["alice"].pop("old"))
    assert broken(lambda s: s.pop("mailboxes"))
    assert broken(lambda s: s.update(extra=[]))


# --- demo: script mode (ADP-1) ------------------------------------------------------------

SCRIPT = """\
# two agents of support get ready, one goes to lunch
@alice: ready
@bob: ready
@dana: groups
@bob: notready lunch
tick 30s
@eli: aftercall
@dana: groups
"""


def test_demo_script_prints_transcript_and_writes_state_adp_1(tmp_path: Path) -> None:
    """ADP-1: a script runs without network; the transcript and the --json state agree."""
    script = tmp_path / "story.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "state.json"

    result = backline("demo", "--script", script, "--json", out)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for typed in ("@alice: ready", "@bob: ready", "@bob: notready lunch", "@dana: groups"):
        assert typed in lines
    assert "[@alice] You are ready." in lines
    assert "[@bob] You are not ready (lunch)." in lines
    assert "(+30s)" in lines
    counts = [line for line in lines if "group:support Support" in line]
    assert counts == [
        "[@dana]   group:support Support — 2 ready (now)",
        "[@dana]   group:support Support — 1 ready (now)",
    ]
    # each reply comes right after the line that asked for it
    assert lines[lines.index("@bob: notready lunch") + 1] == "[@bob] You are not ready (lunch)."

    state = json.loads(out.read_text(encoding="utf-8"))
    assert schema_errors(state) == []
    assert presence_of(state) == {
        "alice": "ready",
        "bob": "not_ready",
        "chen": "logged_off",
        "dana": "logged_off",
        "eli": "after_call_work",
        "fay": "logged_off",
        "sam": "logged_off",
        "sky": "logged_off",
    }
    assert available_of(state) == {"billing": 0, "support": 1, "vip": 0}
    assert {m["id"]: m["roles"] for m in state["members"]}["sam"] == ["admin", "supervisor"]
    assert state["interactions"] == []
    assert state["mailboxes"]["support"] == {"new": 0, "old": 0}
    assert set(state["mailboxes"]) == {*DEMO_MEMBERS, "support"}


def test_demo_script_with_malformed_lines_runs_nothing_adp_1(tmp_path: Path) -> None:
    """ADP-1: every malformed line is reported by number, exit 2, and no line is run."""
    script = tmp_path / "bad.txt"
    script.write_text(
        "@alice: ready\ntick soon\n# fine\nhello there\n@bob: ready\nas\n", encoding="utf-8"
    )
    data, out = tmp_path / "data", tmp_path / "state.json"

    result = backline("demo", "--data", data, "--script", script, "--json", out)

    assert result.returncode == 2
    assert "line 2:" in result.stderr
    assert "soon" in result.stderr
    assert "line 4:" in result.stderr
    assert "hello there" in result.stderr
    assert "line 6:" in result.stderr
    for good in ("line 1:", "line 3:", "line 5:"):
        assert good not in result.stderr
    assert "`@member: COMMAND`" in result.stderr  # says what a line should look like
    assert result.stdout == ""  # nothing ran: no transcript
    assert not out.exists()
    assert not (data / "backline.db").exists()


def test_demo_script_that_cannot_be_read_exits_2_adp_1(tmp_path: Path) -> None:
    result = backline("demo", "--script", tmp_path / "missing.txt")
    assert result.returncode == 2
    assert "missing.txt" in result.stderr
    assert "cannot read" in result.stderr


def test_state_command_prints_what_the_demo_stored_ops_2(tmp_path: Path) -> None:
    """OPS-2: state kept in --data survives the process; `state` prints it schema-valid."""
    data = tmp_path / "data"
    script = tmp_path / "story.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "state.json"
    ran = backline("demo", "--data", data, "--script", script, "--json", out)
    assert ran.returncode == 0, ran.stderr

    shown = backline("state", "--data", data, "--json")

    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert schema_errors(state) == []
    assert state == json.loads(out.read_text(encoding="utf-8"))
    assert presence_of(state)["bob"] == "not_ready"
    assert available_of(state)["support"] == 1


def test_state_command_on_an_empty_folder_exits_2_ops_2(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()

    result = backline("state", "--data", empty, "--json")

    assert result.returncode == 2
    assert result.stdout == ""
    assert "no backline data" in result.stderr
    assert str(empty) in result.stderr
    assert list(empty.iterdir()) == []  # looking did not create a database


# --- run (OPS-1) --------------------------------------------------------------------------


def test_run_with_bad_settings_names_every_problem_and_exits_2_ops_1(tmp_path: Path) -> None:
    """OPS-1: every bad setting at once, each with its file, line and key; nothing starts."""
    settings = tmp_path / "backline.toml"
    settings.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[http]\nport = 70000\n[console]\nenabled = "maybe"\n',
        encoding="utf-8",
    )
    result = backline("run", "--config", settings)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {settings}:3: 'http.port': expects a port (0-65535), got 70000",
        f"{settings}:5: 'console.enabled': expects true or false, got 'maybe'",
    ]
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()


def test_scripts_run_with_demo_not_run_adp_1(tmp_path: Path) -> None:
    """ADP-1: `backline run --script` is gone; `backline demo --script` runs scripts."""
    script = tmp_path / "story.txt"
    script.write_text("@alice: ready\n", encoding="utf-8")
    refused = backline("run", "--script", script)
    assert refused.returncode == 2
    assert "unrecognized arguments: --script" in refused.stderr
    ran = backline("demo", "--script", script)
    assert ran.returncode == 0, ran.stderr
    assert "[@alice] You are ready." in ran.stdout.splitlines()


# --- demo: the REPL (ADP-1) ---------------------------------------------------------------


def test_demo_repl_types_as_alice_then_bob_adp_1() -> None:
    """ADP-1: the REPL starts as @alice, `as @bob` switches, end of input ends it cleanly."""
    result = backline("demo", stdin="ready\nas @bob\nnotready lunch\ngroups\n")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "[@alice] You are ready." in lines
    assert "[@bob] You are not ready (lunch)." in lines
    assert "[@bob]   group:support Support — 1 ready (now) (yours)" in lines
    assert lines.index("[@alice] You are ready.") < lines.index("[@bob] You are not ready (lunch).")


def test_demo_repl_shows_errors_and_keeps_going_adp_1() -> None:
    """ADP-1: a bad line in the REPL is shown, never fatal; `@member: COMMAND` works too."""
    result = backline("demo", "--as", "bob", stdin="tick soon\nnotready nap\n@chen: ready\n")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("! tick:") for line in lines)
    refusal = next(line for line in lines if line.startswith("[@bob] 'nap'"))
    assert "break, lunch, meeting, training, other" in refusal
    assert re.search(r"\(ref [0-9a-f]{6}\)$", refusal)
    assert "[@chen] You are ready." in lines


# --- rules check (RUL-4) ------------------------------------------------------------------


def test_rules_check_accepts_the_shipped_rules_rul_4() -> None:
    result = backline("rules", "check")
    assert result.returncode == 0, result.stderr
    assert "rules are valid" in result.stdout
    named = backline("rules", "check", RULES)
    assert named.returncode == 0, named.stderr


# (file, text in the shipped file, replacement, key in the error, words of the message)
BAD_RULES = {
    "yaml-syntax": (
        "directory.yaml",
        "    name: Bob Baker\n",
        "    name: Bob: Baker\n",
        "",
        "invalid YAML",
    ),
    "unknown-member-in-group": (
        "directory.yaml",
        "    members: [alice, bob, chen]\n",
        "    members: [alice, bob, zed]\n",
        "groups[0].members",
        "unknown member 'zed'",
    ),
    "duplicate-member-id": (
        "directory.yaml",
        "  - id: fay\n",
        "  - id: bob\n",
        "members[5].id",
        "duplicate id 'bob'",
    ),
    "unknown-role": (
        "directory.yaml",
        "    roles: [agent]\n    handles: {xmpp: chen@localhost}\n",
        "    roles: [wizard]\n    handles: {xmpp: chen@localhost}\n",
        "members[2].roles",
        "unknown role 'wizard'",
    ),
    "routes-to-unknown-target": (
        "directory.yaml",
        "    routes_to: [group:support]\n",
        "    routes_to: [group:suport]\n",
        "routing_points[0].routes_to",
        "unknown target 'group:suport'",
    ),
    "wrong-type": (
        "policy.yaml",
        "  show_available_count: true ",
        '  show_available_count: "yes please" ',
        "groups.show_available_count",
        "expected a boolean (true/false), got 'yes please'",
    ),
    "unknown-option": (
        "policy.yaml",
        "  searchable: true ",
        "  serchable: true ",
        "groups.serchable",
        "did you mean 'searchable'?",
    ),
    "bad-duration": (
        "policy.yaml",
        "  wait_for_agent: 30s ",
        "  wait_for_agent: 30 parsecs ",
        "routing.wait_for_agent",
        "expected a duration",
    ),
    "fallback-to-unknown-group": (
        "policy.yaml",
        "    when_empty: fallback:support ",
        "    when_empty: fallback:nope ",
        "groups.billing.when_empty",
        "unknown group 'nope'",
    ),
    "policy-for-unknown-group": (
        "policy.yaml",
        "  billing:\n",
        "  bllling:\n",
        "groups.bllling",
        "did you mean 'billing'?",
    ),
}


def break_rules(folder: Path, file: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in ``folder/file``; return the 1-based line of the change."""
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in the shipped {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize("case", BAD_RULES)
def test_rules_check_names_file_line_and_key_rul_4(case: str, tmp_path: Path) -> None:
    """RUL-4 (RUL-2, DIR-6): each kind of bad rules folder exits 1 naming file, line and key."""
    file, old, new, key, words = BAD_RULES[case]
    folder = copy_rules(tmp_path)
    line = break_rules(folder, file, old, new)

    result = backline("rules", "check", folder)

    assert result.returncode == 1
    where = f"{folder / file}:{line}:" + (f" {key}:" if key else "")
    errors = [e for e in result.stderr.splitlines() if e.startswith(where)]
    assert errors, f"no error starting with {where!r} in:\n{result.stderr}"
    assert any(words in e for e in errors), result.stderr
    assert "the bot would not start" in result.stderr
    assert "rules are valid" not in result.stdout


def test_rules_check_reports_every_problem_at_once_rul_4(tmp_path: Path) -> None:
    """RUL-4: problems in both files are all listed in one run, not one per attempt."""
    folder = copy_rules(tmp_path)
    for case in ("unknown-role", "wrong-type", "bad-duration"):
        file, old, new, _, _ = BAD_RULES[case]
        break_rules(folder, file, old, new)

    result = backline("rules", "check", folder)

    assert result.returncode == 1
    assert "unknown role 'wizard'" in result.stderr
    assert "groups.show_available_count" in result.stderr
    assert "routing.wait_for_agent" in result.stderr
    assert "3 problem(s)" in result.stderr


def test_rules_check_on_a_missing_folder_exits_1_rul_4(tmp_path: Path) -> None:
    missing = tmp_path / "no-rules"
    result = backline("rules", "check", missing)
    assert result.returncode == 1
    assert f"{missing}: not a folder of rules" in result.stderr


def test_bad_rules_never_start_the_demo_rul_4(tmp_path: Path) -> None:
    """RUL-4: the bot refuses to start on bad rules and says where they are wrong."""
    folder = copy_rules(tmp_path)
    file, old, new, key, _ = BAD_RULES["unknown-option"]
    line = break_rules(folder, file, old, new)
    script = tmp_path / "story.txt"
    script.write_text("@alice: ready\n", encoding="utf-8")
    data = tmp_path / "data"

    result = backline("demo", "--rules", folder, "--data", data, "--script", script)

    assert result.returncode == 1
    assert "did not start" in result.stderr
    assert f"{folder / file}:{line}: {key}:" in result.stderr
    assert "You are ready" not in result.stdout


def test_bad_rules_leave_no_data_file_behind_rul_4(tmp_path: Path) -> None:
    """RUL-4: a refused start touches nothing: `state` still says there is no data."""
    folder = copy_rules(tmp_path)
    file, old, new, _, _ = BAD_RULES["unknown-role"]
    break_rules(folder, file, old, new)
    script = tmp_path / "story.txt"
    script.write_text("@alice: ready\n", encoding="utf-8")
    data = tmp_path / "data"

    started = backline("demo", "--rules", folder, "--data", data, "--script", script)
    assert started.returncode == 1

    shown = backline("state", "--data", data, "--json")
    assert shown.returncode == 2, shown.stdout
    assert "no backline data" in shown.stderr
