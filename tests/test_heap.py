"""A small, quiet heap at contact-centre scale (issue 12): few objects per live interaction,
freed without the cycle collector, and a collector policy that keeps full collections short.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from transitions import MachineError

from bot.clock import Clock, FakeClock, SystemClock
from bot.heap import THRESHOLDS, Heap
from bot.interaction.machines import InteractionMachine, load_machines
from bot.interaction.model import Interaction
from tests.support.console import RULES, Console, copy_rules

MODELS = 1000


class _Journal:
    def state_changed(self, interaction: Interaction, source: str, trigger: str) -> None:
        return None


def _machine() -> InteractionMachine:
    return InteractionMachine(load_machines(RULES / "machines")["chat"])


def _tracked() -> int:
    return len(gc.get_objects())


@pytest.fixture
def collector_off() -> Iterator[None]:
    """No automatic collection and no other policy's callback while a test counts objects."""
    callbacks = _set_aside()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        _put_back(callbacks)


def _set_aside() -> list[Callable[[str, dict[str, int]], None]]:
    callbacks = gc.callbacks[:]
    gc.callbacks.clear()
    return callbacks


def _put_back(callbacks: list[Callable[[str, dict[str, int]], None]]) -> None:
    """The callbacks set aside, then any a Core installed meanwhile (the process's policy)."""
    gc.callbacks[:] = callbacks + [c for c in gc.callbacks if c not in callbacks]


def test_a_model_is_one_tracked_object_with_nothing_bound_int_1(collector_off: None) -> None:
    """INT-1: joining its machine adds no trigger, check or state method to an interaction."""
    machine, journal = _machine(), _Journal()
    before = _tracked()
    chats = [Interaction(f"i{n}", "chat", 0.0, journal) for n in range(MODELS)]
    for chat in chats:
        machine.add_model(chat)
    assert _tracked() - before <= MODELS + 5  # the interactions (and the list holding them)
    chat = chats[0]
    assert chat.state == "queued"
    assert not hasattr(chat, "__dict__")
    assert not any(hasattr(chat, name) for name in ("ring", "may_ring", "is_queued"))


async def test_firing_leaves_nothing_behind_int_1(collector_off: None) -> None:
    """INT-1: a model's event queue lasts while its trigger runs, not for its whole life."""
    machine, journal = _machine(), _Journal()
    chats = [Interaction(f"i{n}", "chat", 0.0, journal) for n in range(MODELS)]
    for chat in chats:
        machine.add_model(chat)
    assert await chats[0].trigger("ring")  # the first trigger warms what transitions caches
    gc.collect()
    before = _tracked()
    for chat in chats[1:]:
        assert await chat.trigger("ring")
    gc.collect()
    assert _tracked() - before < 20
    assert {c.state for c in chats} == {"offered"}


async def test_a_model_out_of_its_machine_fires_nothing_int_1() -> None:
    """INT-1: once removed (closed, or reloaded into a new machine) a model cannot move."""
    machine = _machine()
    chat = Interaction("i1", "chat", 0.0, _Journal())
    machine.add_model(chat)
    machine.remove_model(chat)
    with pytest.raises(MachineError):
        await chat.trigger("ring")
    assert chat.state == "queued"


async def test_a_closed_chat_is_freed_without_the_collector_int_1(
    tmp_path: Path, collector_off: None
) -> None:
    """INT-1: a chat routed, accepted (its offer timer cancelled), ended and done leaves memory
    as soon as it closes: nothing it was part of makes a reference cycle."""
    console = Console(RULES, tmp_path / "backline.db")
    try:
        gc.collect()
        await console.run(
            "@alice: ready\nsim chat Ann @alice my parcel\n@alice: accept\n"
            "@alice: end\n@alice: done\n"
        )
        assert console.core.engine.live == {}
        engine = console.core.engine  # earlier tests' engines may still hold their own
        left = [o for o in gc.get_objects() if isinstance(o, Interaction) and o.journal is engine]
        assert left == []
    finally:
        console.close()


def test_a_reload_frees_the_old_machines_rul_5(tmp_path: Path, collector_off: None) -> None:
    """RUL-5: the machines a reload replaces are freed at once, even if the heap is frozen
    (a reload replaces them when a machine file changed)."""
    rules = copy_rules(tmp_path)
    console = Console(rules, tmp_path / "backline.db")
    try:
        old = [weakref.ref(m) for m in console.core.engine.machines.values()]
        chat = rules / "machines" / "chat.yaml"
        chat.write_text(chat.read_text().replace("  - wrapup\n", "  - wrapup\n  - spare\n"))
        assert console.core.reload_rules() == []
        assert all(ref() is None for ref in old)
    finally:
        console.close()


# -- timers -----------------------------------------------------------------------------------


def _watched_callback() -> tuple[Callable[[], None], weakref.ref[object]]:
    held = _Journal()  # stands for the interaction a timer's closure holds

    def callback() -> None:
        assert held is not None

    return callback, weakref.ref(held)


def _cancel_releases(clock: Clock) -> None:
    callback, held = _watched_callback()
    timer = clock.call_at(clock.now() + 60, callback)
    del callback
    assert held() is not None
    timer.cancel()
    assert held() is None


def test_a_cancelled_fake_timer_lets_go_of_its_closure(collector_off: None) -> None:
    """A cancelled timer frees its closure now, not when it would have been due."""
    _cancel_releases(FakeClock())


async def test_a_cancelled_system_timer_lets_go_of_its_closure(collector_off: None) -> None:
    """The same on the real clock (asyncio's handle drops its callback on cancel)."""
    _cancel_releases(SystemClock())
    await asyncio.sleep(0)


async def test_a_cancelled_fake_timer_never_runs() -> None:
    """Cancelling still means the callback never runs; the others run in time order."""
    clock, ran = FakeClock(), []
    first = clock.call_at(clock.now() + 5, lambda: ran.append("first"))
    clock.call_at(clock.now() + 10, lambda: ran.append("second"))
    first.cancel()
    await clock.advance(30)
    assert ran == ["second"]


# -- the collector policy ------------------------------------------------------------------


@pytest.fixture
def policy() -> Iterator[Callable[..., Heap]]:
    """A ``Heap`` of the test's own, with the process's policy set aside meanwhile."""
    callbacks, thresholds = _set_aside(), gc.get_threshold()
    made: list[Heap] = []

    def make(**kwargs: object) -> Heap:
        heap = Heap(**kwargs)  # type: ignore[arg-type]
        made.append(heap)
        return heap

    gc.unfreeze()
    try:
        yield make
    finally:
        for heap in made:
            heap.uninstall()
        _put_back(callbacks)
        gc.set_threshold(*thresholds)


def test_install_tunes_the_thresholds_and_uninstall_puts_them_back(
    policy: Callable[..., Heap],
) -> None:
    """Young collections every THRESHOLDS[0] allocations while installed, as before after."""
    before = gc.get_threshold()
    heap = policy()
    heap.install()
    heap.install()  # once per process: a second call changes nothing
    assert gc.get_threshold() == THRESHOLDS
    assert gc.callbacks.count(heap._on_gc) == 1
    heap.uninstall()
    assert gc.get_threshold() == before
    assert gc.callbacks == []


def test_settle_freezes_what_start_up_built_once(policy: Callable[..., Heap]) -> None:
    """After the start-up restore everything alive is frozen; a second Core only installs."""
    heap = policy()
    heap.refreeze()  # before any settle: nothing to keep frozen
    assert gc.get_freeze_count() == 0
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    built = [[n] for n in range(100)]  # built after start-up, e.g. by a reload
    heap.settle()
    assert gc.get_freeze_count() == frozen
    heap.refreeze()
    assert gc.get_freeze_count() >= frozen + len(built)


def test_a_long_full_collection_freezes_its_survivors(policy: Callable[..., Heap]) -> None:
    """Over budget, a full collection's survivors are frozen: the next one walks only the new."""
    patient = policy(budget=float("inf"))
    patient.install()
    gc.collect()
    assert (patient.freezes, gc.get_freeze_count()) == (0, 0)
    patient.uninstall()
    hasty = policy(budget=0.0)  # every full collection is over this budget
    hasty.install()
    gc.collect(1)  # a young collection never freezes
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert hasty.freezes == 1
    assert gc.get_freeze_count() > 0


def test_a_growing_heap_is_walked_in_slices(policy: Callable[..., Heap]) -> None:
    """Issue 12: while 200,000 long-lived objects pile up after start-up (40,000 live
    interactions' worth), full collections come often enough that none walks more than a
    slice of them, however large the heap start-up left (frozen)."""
    walked: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            walked.append(len(gc.get_objects(generation=2)))

    heap = policy(budget=0.0)  # every full collection freezes its survivors
    heap.settle()  # what the process held before, as start-up's: frozen
    gc.callbacks.insert(0, watch)
    try:
        kept = [[n] for n in range(200_000)]
    finally:
        gc.callbacks.remove(watch)
    assert len(kept) == 200_000
    assert len(walked) >= 5, walked
    assert max(walked) < 20_000, walked
