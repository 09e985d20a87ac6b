"""RUL-3: trigger rules are validated on load and run on interaction events."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rules.errors import RulesInvalid
from bot.rules.source import parse_source
from bot.rules.triggers import _validate, load_triggers
from bot.state import snapshot
from tests.support.console import RULES, Console, copy_rules
from tests.support.state import case, live, live_view


def check(text: str) -> str:
    with pytest.raises(RulesInvalid) as caught:
        _validate(parse_source(text, "t.yaml"))
    return str(caught.value)


def test_the_shipped_triggers_load_rul_3() -> None:
    names = [t.name for t in load_triggers(RULES / "triggers")]
    assert names == ["escalate-long-hold", "greet-new-chat"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {on: interaction.born, do: [{say: hi}]}", "t.yaml:1: [0].on: unknown event"),
        (
            "- {on: interaction.created, when: {colour: red}, do: [{say: hi}]}",
            "t.yaml:1: [0].when.colour: unknown field",
        ),
        (
            "- {on: interaction.created, do: [{shout: hi}]}",
            "t.yaml:1: [0].do[0].shout: unknown action",
        ),
        ("- {on: interaction.created, do: []}", "t.yaml:1: [0].do: expected a list of actions"),
        ("- {on: interaction.created, do: [{say: 'hi {nme}'}]}", "unknown field {nme}"),
        (
            "- {on: interaction.created, do: [{notify: {text: hi}}]}",
            "[0].do[0].notify.to: expected owner, supervisors, @member or group:NAME",
        ),
        ("- {on: interaction.created, do: [{say: hi}], then: x}", "[0].then: unknown key"),
        ("on: interaction.created", "t.yaml:1: expected a list of triggers"),
    ],
)
def test_bad_trigger_files_name_file_line_and_key_rul_3(text: str, expected: str) -> None:
    assert expected in check(text)


async def test_a_new_chat_is_greeted_rul_3(console: Console) -> None:
    """RUL-3 example: greet a customer who starts a chat."""
    await console.run("sim chat Ann group:support hello")
    assert console.received("customer:Ann", since_mark=False)[0] == (
        "(i1) Hello Ann, thanks for getting in touch. Someone will be with you shortly."
    )


async def test_a_call_on_hold_too_long_is_escalated_rul_3(console: Console) -> None:
    """RUL-3 example: a call on hold longer than hold.escalate_after goes to the supervisor."""
    await console.run("@bob: ready\nsim call Bo group:support\n@bob: accept\n@bob: hold")
    console.mark()
    await console.run("tick 119s")
    assert console.received("@sam") == []
    await console.run("tick 2s")
    assert console.received("@bob") == ["(i1) i1: Bo has been on hold for 2m."]
    assert console.received("@sam") == [
        "(!) New message #1 (escalate): i1 (Bo) has been on hold for 2m; owner @bob."
    ]
    state = snapshot(console.core.store)
    assert state["inbox"]["sam"][0]["priority"] == "high"
    assert case(console, "i1")["escalated"] == "yes"


async def test_a_call_resumed_in_time_is_not_escalated_rul_3(console: Console) -> None:
    await console.run("@bob: ready\nsim call Bo group:support\n@bob: accept\n@bob: hold")
    await console.run("tick 60s\n@bob: resume\ntick 90s")
    assert console.received("@sam", since_mark=False) == []


async def test_reload_keeps_live_interactions_and_a_bad_reload_keeps_the_old_rules_rul_5(
    tmp_path: Path,
) -> None:
    """RUL-5: `reload` swaps rules under live interactions; a broken folder changes nothing."""
    rules = copy_rules(tmp_path)
    console = Console(rules, tmp_path / "db")
    try:
        await console.run("@alice: ready\nsim chat Ann group:support hi\n@alice: accept")
        greet = rules / "triggers" / "greet.yaml"
        greet.write_text(greet.read_text().replace("Hello {customer}", "Welcome back {customer}"))
        await console.run("@sam: reload")
        assert console.last("@sam").startswith("Rules reloaded")
        await console.run("sim say Ann still there?\n@alice: say yes")
        assert console.received("@alice", since_mark=False)[-1] == "(i1) Ann: still there?"
        assert live_view(console, "i1").state == "active"
        await console.run("sim chat Ben group:support hey")
        assert "(i2) Welcome back Ben" in console.received("customer:Ben", since_mark=False)[0]
        (rules / "machines" / "chat.yaml").write_text("states: [queued]\n")
        await console.run("@sam: reload")
        refusal = console.last("@sam")
        assert "The rules were not reloaded; the old rules stay." in refusal
        assert "machines/chat.yaml" in refusal
        await console.run("@alice: end\n@alice: done i1")
        assert "i1" not in live(console)
    finally:
        console.close()


async def test_a_reload_rebuilds_the_machines_only_when_their_files_changed_rul_5(
    tmp_path: Path,
) -> None:
    """RUL-5: a reload that leaves the machine files as they were keeps the live models
    where they are (at 100,000 members rebinding them all held the loop up); one that
    changes a machine moves every live interaction onto the new machine, in its state."""
    rules = copy_rules(tmp_path)
    console = Console(rules, tmp_path / "db")
    try:
        await console.run("@alice: ready\nsim chat Ann group:support hi\n@alice: accept")
        engine = console.core.engine
        chat, i1 = engine.machines["chat"], engine.live["i1"]
        greet = rules / "triggers" / "greet.yaml"
        greet.write_text(greet.read_text().replace("Hello {customer}", "Welcome {customer}"))
        await console.run("@sam: reload")
        assert console.last("@sam").startswith("Rules reloaded")
        assert engine.machines["chat"] is chat and engine.live["i1"] is i1

        machine = rules / "machines" / "chat.yaml"
        machine.write_text(machine.read_text().replace("  - wrapup\n", "  - wrapup\n  - spare\n"))
        await console.run("@sam: reload")
        assert console.last("@sam").startswith("Rules reloaded")
        assert engine.machines["chat"] is not chat
        assert "spare" in engine.machines["chat"].spec.states
        assert engine.live["i1"].state == "active"
        await console.run("@alice: say still here")
        assert console.received("customer:Ann", since_mark=False)[-1].endswith("still here")
    finally:
        console.close()


def test_rules_readme_documents_every_event_field_and_action_rul_3() -> None:
    """Like datasette's docs test: the README's trigger tables are the code's tables."""
    from bot.rules.triggers import render_tables

    text = (RULES / "README.md").read_text(encoding="utf-8")
    documented = text.split("<!-- triggers:start -->")[1].split("<!-- triggers:end -->")[0]
    assert documented.strip() == render_tables().strip()
