"""State machines as data: ``rules/machines/*.yaml`` in the ``transitions`` dict shape (RUL-1).

One ``AsyncMachine`` per kind; every live interaction of that kind is one of its models.
transitions keeps models in a list and scans it on ``add_model``; ``_Models`` keeps the
list interface with dict-speed membership, so adding the 50,000th model costs what the
first did.

transitions also decorates every model: one bound partial per trigger, per ``may_`` check
and per ``is_`` state, plus an empty event queue (about 115 objects and 6 KB per model, all
of them scanned by every full garbage collection). ``InteractionMachine`` decorates nothing:
a model keeps a link to its machine and fires by name (``Interaction.trigger``), and its
event queue exists only while one of its transitions runs.

A trigger passes through about a dozen callback lists (prepare, conditions, before, enter,
exit, after, ...), most of them empty; ``AsyncMachine`` gathers each list as concurrent
tasks, a future per list, and registers the running task so a later transition can cancel
callbacks still awaiting. The callbacks machine files may name (``CALLBACKS``) are plain
functions that never await, so ``InteractionMachine`` runs each list in order and has
nothing to cancel: the same calls in the same order, at a little more than half the cost.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, cast

from transitions import MachineError, State
from transitions.extensions.asyncio import AsyncMachine

from bot.interaction import firing
from bot.rules.errors import RuleError, RulesInvalid
from bot.rules.source import KeyPath, Source, load_source

KINDS = ("voice", "chat", "email", "workitem", "im", "consultation", "voicemail")
CUSTOMER_KINDS = ("voice", "chat", "email", "workitem")
TERMINAL = "closed"
CALLBACK_KEYS = ("conditions", "unless", "before", "after", "prepare")
MACHINE_KEYS = {"initial", "states", "transitions", "after_state_change", "before_state_change"}
TRANSITION_KEYS = {"trigger", "source", "dest", *CALLBACK_KEYS}
# Names a machine file may use as a condition or callback: methods of Interaction.
CALLBACKS = frozenset({"all_done", "is_voice", "record_state"})


@dataclass(frozen=True)
class MachineSpec:
    """One validated machine file."""

    kind: str
    initial: str
    states: tuple[str, ...]
    transitions: tuple[dict[str, Any], ...]
    options: dict[str, Any]

    def triggers(self, state: str) -> list[str]:
        """Triggers that may fire in ``state`` (before conditions)."""
        return list(self._triggers_by_state.get(state, ()))

    @cached_property
    def _triggers_by_state(self) -> dict[str, tuple[str, ...]]:
        """Each state's triggers, worked out once per machine file (every command asks)."""
        by_state: dict[str, list[str]] = {state: [] for state in self.states}
        for t in self.transitions:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            for state, found in by_state.items():
                if (state in sources or "*" in sources) and t["trigger"] not in found:
                    found.append(t["trigger"])
        return {state: tuple(found) for state, found in by_state.items()}

    def as_dict(self) -> dict[str, Any]:
        """The keyword arguments for a ``transitions`` Machine."""
        return {
            "states": list(self.states),
            "transitions": [dict(t) for t in self.transitions],
            "initial": self.initial,
            **self.options,
        }


def load_machines(folder: Path) -> dict[str, MachineSpec]:
    """Load ``folder/*.yaml``, one file per kind; ``RulesInvalid`` lists every problem."""
    errors: list[RuleError] = []
    specs: dict[str, MachineSpec] = {}
    for kind in KINDS:
        path = folder / f"{kind}.yaml"
        if not path.exists():
            errors.append(
                RuleError(str(path), None, "", f"missing: every kind needs a machine ({kind})")
            )
            continue
        try:
            specs[kind] = _validate(kind, load_source(path))
        except RulesInvalid as exc:
            errors += exc.errors
    for path in sorted(folder.glob("*.yaml")):
        if path.stem not in KINDS:
            errors.append(
                RuleError(str(path), None, "", f"unknown kind; expected one of: {', '.join(KINDS)}")
            )
    if errors:
        raise RulesInvalid(errors)
    return specs


def _validate(kind: str, source: Source) -> MachineSpec:
    errors: list[RuleError] = []

    def fail(path: KeyPath, message: str) -> None:
        errors.append(source.error(path, message))

    doc = source.data
    if not isinstance(doc, dict):
        raise RulesInvalid(
            [source.error((), "expected a mapping with initial, states, transitions")]
        )
    for key in doc:
        if key not in MACHINE_KEYS:
            fail((key,), f"unknown key; expected one of: {', '.join(sorted(MACHINE_KEYS))}")
    states = doc.get("states")
    if not isinstance(states, list) or not all(isinstance(s, str) for s in states) or not states:
        fail(("states",), "expected a list of state names")
        states = []
    if states and TERMINAL not in states:
        fail(("states",), f"every machine needs the terminal state '{TERMINAL}'")
    if doc.get("initial") not in states:
        fail(("initial",), f"expected one of the states: {', '.join(states)}")
    for key in ("after_state_change", "before_state_change"):
        if key in doc:
            _check_callbacks(doc[key], (key,), fail)
    transitions = doc.get("transitions")
    if not isinstance(transitions, list):
        fail(("transitions",), "expected a list of transitions")
        transitions = []
    for index, t in enumerate(transitions):
        _check_transition(t, ("transitions", index), set(states), fail)
    if errors:
        raise RulesInvalid(errors)
    options = {k: doc[k] for k in ("after_state_change", "before_state_change") if k in doc}
    return MachineSpec(kind, doc["initial"], tuple(states), tuple(transitions), options)


def _check_transition(t: Any, path: KeyPath, states: set[str], fail: Any) -> None:
    if not isinstance(t, dict):
        fail(path, "expected a mapping with trigger, source, dest")
        return
    for key in t:
        if key not in TRANSITION_KEYS:
            fail(
                (*path, key), f"unknown key; expected one of: {', '.join(sorted(TRANSITION_KEYS))}"
            )
    if not isinstance(t.get("trigger"), str):
        fail((*path, "trigger"), "expected a trigger name")
    source = t.get("source")
    sources = source if isinstance(source, list) else [source]
    for name in sources:
        if name != "*" and name not in states:
            fail((*path, "source"), f"unknown state '{name}'")
    if TERMINAL in sources and t.get("dest") not in (None, TERMINAL):
        fail((*path, "dest"), f"'{TERMINAL}' is terminal: a closed interaction never reopens")
    if "dest" not in t:
        fail((*path, "dest"), "expected a state, or null for an internal transition")
    elif t["dest"] is not None and t["dest"] not in states:
        fail((*path, "dest"), f"unknown state '{t['dest']}'")
    for key in CALLBACK_KEYS:
        if key in t:
            _check_callbacks(t[key], (*path, key), fail)


def _check_callbacks(value: Any, path: KeyPath, fail: Any) -> None:
    for name in value if isinstance(value, list) else [value]:
        if name not in CALLBACKS:
            fail(path, f"unknown callback '{name}'; known: {', '.join(sorted(CALLBACKS))}")


class _Models:
    """The model list transitions expects, with constant-time membership and removal."""

    def __init__(self) -> None:
        self._by_id: dict[int, object] = {}

    def append(self, model: object) -> None:
        self._by_id[id(model)] = model

    def remove(self, model: object) -> None:
        del self._by_id[id(model)]

    def __contains__(self, model: object) -> bool:
        return id(model) in self._by_id

    def __iter__(self) -> Iterator[object]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def __getitem__(self, index: int) -> object:
        return list(self._by_id.values())[index]


_Queue = deque[Callable[[], Awaitable[None]]]
"""Triggers waiting for a model's running transition."""


class Model(Protocol):
    """What an ``InteractionMachine`` needs of a model: its state and a link back."""

    state: str
    machine: InteractionMachine | None


class InteractionMachine(AsyncMachine):
    """An async machine whose models are the live interactions of one kind."""

    state_cls = firing.State  # type: ignore[assignment]
    transition_cls = firing.Transition
    event_cls = firing.Event

    def __init__(self, spec: MachineSpec) -> None:
        super().__init__(
            model=None,
            auto_transitions=False,
            send_event=True,
            queued="model",
            **spec.as_dict(),
        )
        self.models = cast(list[Any], _Models())
        self.spec = spec

    def add_model(self, model: object, initial: str | Enum | State | None = None) -> None:
        """Make ``model`` (a ``Model``) one of ours, in ``initial`` or the initial state.

        Only the link and the state are set (the state string is the machine's own, shared
        by every model in it); adding a model twice keeps one entry.
        """
        if model in self.models:
            return
        state = self.initial if initial is None else initial
        if state is None:
            raise ValueError(
                "No initial state configured for machine, must specify when adding model."
            )
        member = cast(Model, model)
        member.machine = self
        self.set_state(state, model=member)
        self.models.append(member)

    def remove_model(self, model: object) -> None:
        """``model`` leaves the machine; it can fire nothing more, its queued events are dropped."""
        self.models.remove(model)
        self._transition_queue_dict.pop(id(model), None)
        cast(Model, model).machine = None

    async def callbacks(self, funcs: Iterable[Any], event_data: Any) -> None:  # type: ignore[override]
        """Run a list of callbacks in order.

        A name is a method of the model (``CALLBACKS``, checked when the file was read) and
        is called as such, without transitions' search through modules.
        """
        for func in funcs:
            if isinstance(func, str):
                result = getattr(event_data.model, func)(event_data)
                if inspect.isawaitable(result):
                    await result
            else:
                await self.callback(func, event_data)

    @staticmethod
    async def await_all(
        callables: list[Callable[..., Coroutine[Any, Any, bool | None]]],
    ) -> list[bool | None]:
        """Run the callables in order and collect their results (conditions, mostly)."""
        return [await func() for func in callables]

    async def process_context(self, func: Callable[[], Awaitable[None]], model: object) -> bool:
        """Run a trigger through the model's queue; no task bookkeeping (nothing to cancel)."""
        return await self._process_async(func, model)

    async def cancel_running_transitions(self, model: object, msg: str | None = None) -> None:
        """Callbacks never await, so no transition of ours is ever left running."""

    async def fire(self, model: object, trigger: str) -> bool:
        """Run ``trigger`` on ``model``: what transitions' bound ``model.trigger`` does."""
        if model not in self.models:
            raise MachineError(f"{model!r} is not a model of the {self.spec.kind} machine")
        event = self.events.get(trigger)
        if event is None:
            raise AttributeError(f"Do not know event named '{trigger}'.")
        return await event.trigger(model)

    async def _process_async(self, trigger: Callable[[], Awaitable[None]], model: object) -> bool:
        """The per-model event queue, made when a trigger arrives and dropped once drained.

        A trigger fired while one of the model's transitions runs waits in the queue and
        runs next; the first one runs at once.
        """
        queues = cast("dict[int, _Queue]", self._transition_queue_dict)  # no generic built per call
        key = id(model)
        queue = queues.get(key)
        if queue is not None:
            queue.append(trigger)
            return True  # a transition of this model runs now; it runs this one next
        queue = queues[key] = deque()
        try:
            await trigger()
            while queue and queues.get(key) is queue:  # else the model left the machine
                await queue.popleft()()
        except BaseException:
            queue.clear()
            raise
        finally:
            if queues.get(key) is queue:
                del queues[key]
        return True

    def retire(self) -> None:
        """Drop the events of a replaced machine, so it is freed without the cycle collector.

        Events and their machine refer to each other; the heap may be frozen (``bot.heap``),
        where cyclic garbage would stay for good.
        """
        self.events.clear()


def mermaid(spec: MachineSpec) -> str:
    """The machine as a mermaid state diagram (``backline rules graph``)."""
    from transitions.extensions.diagrams import GraphMachine

    class _Model:
        def all_done(self, *_: object) -> bool:
            return True

        is_voice = all_done

        def record_state(self, *_: object) -> None:
            return None

    machine = GraphMachine(
        model=_Model(),
        graph_engine="mermaid",
        title=spec.kind,
        auto_transitions=False,
        show_conditions=True,
        **spec.as_dict(),
    )
    return str(machine.get_graph().draw(None))
