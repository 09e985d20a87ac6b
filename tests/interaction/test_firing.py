"""INT-1, RUL-1: a trigger on an interaction machine runs what transitions' own AsyncMachine
runs, in the same order, to the same state and result (``bot.interaction.firing``)."""

from __future__ import annotations

from typing import Any

from transitions.extensions.asyncio import AsyncMachine

from bot.interaction.machines import InteractionMachine, MachineSpec

SPEC = MachineSpec(
    kind="chat",
    initial="queued",
    states=("queued", "active", "held", "closed"),
    transitions=(
        {
            "trigger": "accept",
            "source": "queued",
            "dest": "held",
            "prepare": "p",
            "conditions": "no",
        },
        {
            "trigger": "accept",
            "source": "queued",
            "dest": "active",
            "prepare": "p",
            "conditions": ["yes", "yes_too"],
            "unless": "no",
            "before": "b",
            "after": ["a", "a_too"],
        },
        {"trigger": "talk", "source": "active", "dest": None, "before": "b", "after": "a"},
        {"trigger": "hold", "source": "active", "dest": "held", "conditions": "no"},
        {"trigger": "end", "source": ["active", "held"], "dest": "closed", "after": "a"},
    ),
    options={"before_state_change": "before_any", "after_state_change": ["after_any"]},
)


class Recorder:
    """A model whose every callback notes its name and what it saw."""

    state: str
    machine: Any = None

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _note(self, name: str, event: Any) -> None:
        self.calls.append(f"{name}:{event.event.name}:{self.state}")

    def p(self, event: Any) -> None:
        self._note("p", event)

    def yes(self, event: Any) -> bool:
        self._note("yes", event)
        return True

    def yes_too(self, event: Any) -> bool:
        self._note("yes_too", event)
        return True

    def no(self, event: Any) -> bool:
        self._note("no", event)
        return False

    def b(self, event: Any) -> None:
        self._note("b", event)

    def a(self, event: Any) -> None:
        self._note("a", event)

    def a_too(self, event: Any) -> None:
        self._note("a_too", event)

    def before_any(self, event: Any) -> None:
        self._note("before_any", event)

    def after_any(self, event: Any) -> None:
        self._note("after_any", event)


async def run(fire: Any, model: Recorder) -> list[tuple[str, bool, str]]:
    """Fire a fixed sequence; what each trigger returned and the state after it."""
    outcome = []
    for trigger in ("accept", "talk", "hold", "end"):
        outcome.append((trigger, bool(await fire(model, trigger)), model.state))
    return outcome


async def test_an_interaction_machine_fires_as_transitions_does_int_1_rul_1() -> None:
    """The same callbacks in the same order (prepare, conditions, before, after, the machine's
    own before/after), the same fall-through to the next transition when a condition fails,
    the same internal transition, the same results and states."""
    theirs = Recorder()
    reference = AsyncMachine(
        model=theirs,
        auto_transitions=False,
        send_event=True,
        queued="model",
        **SPEC.as_dict(),
    )

    async def fire_theirs(model: Recorder, trigger: str) -> bool:
        result: bool = await getattr(model, trigger)()
        return result

    ours = Recorder()
    machine = InteractionMachine(SPEC)
    machine.add_model(ours)

    expected = await run(fire_theirs, theirs)
    assert await run(machine.fire, ours) == expected
    assert ours.calls == theirs.calls
    assert expected == [
        ("accept", True, "active"),
        ("talk", True, "active"),
        ("hold", True, "active"),  # a queued machine's trigger says it was processed
        ("end", True, "closed"),
    ]
    assert reference.get_model_state(theirs).name == "closed"
    assert ours.calls[:3] == ["p:accept:queued", "no:accept:queued", "p:accept:queued"]
