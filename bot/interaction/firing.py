"""How a trigger runs: transitions' async event, transition and state, minus what we never use.

Every trigger of an interaction passes through ``AsyncEvent``, ``AsyncTransition`` and two
``AsyncState``s. Those classes log at debug level a dozen times per trigger, look for a
diagram to restyle, ask the machine to cancel callbacks still running and call every
callback list, empty or not. The classes here run the same callback lists in the same
order (prepare, conditions, before, exit, enter, after, after_state_change, finalize),
with the same results, and skip only those: an interaction machine draws no diagram, and
its callbacks never await (``InteractionMachine``), so there is nothing to cancel.
(transitions' type stubs give these coroutines the synchronous classes' signatures, hence
the ``override`` ignores.)
"""

from __future__ import annotations

from typing import Any

from transitions.extensions.asyncio import AsyncEvent, AsyncState, AsyncTransition


class State(AsyncState):
    """A state whose enter and exit run their callbacks, if it has any."""

    async def enter(self, event_data: Any) -> None:  # type: ignore[override]
        """Entering: the state's ``on_enter`` callbacks."""
        if self.on_enter:
            await event_data.machine.callbacks(self.on_enter, event_data)

    async def exit(self, event_data: Any) -> None:  # type: ignore[override]
        """Leaving: the state's ``on_exit`` callbacks."""
        if self.on_exit:
            await event_data.machine.callbacks(self.on_exit, event_data)


class Transition(AsyncTransition):
    """One transition: conditions, then the callbacks around the change of state."""

    async def execute(self, event_data: Any) -> bool:  # type: ignore[override]
        """Run the transition; False when a condition holds it back."""
        machine = event_data.machine
        if self.prepare:
            await machine.callbacks(self.prepare, event_data)
        if self.conditions and not await self._eval_conditions(event_data):
            return False
        if machine.before_state_change:
            await machine.callbacks(machine.before_state_change, event_data)
        if self.before:
            await machine.callbacks(self.before, event_data)
        if self.dest:  # None: an internal transition, no change of state
            await self._change_state(event_data)
        if self.after:
            await machine.callbacks(self.after, event_data)
        if machine.after_state_change:
            await machine.callbacks(machine.after_state_change, event_data)
        return True

    async def _change_state(self, event_data: Any) -> None:  # type: ignore[override]
        machine = event_data.machine
        await machine.get_state(self.source).exit(event_data)
        machine.set_state(self.dest, event_data.model)
        event_data.update(event_data.model.state)
        dest = machine.get_state(self.dest)
        await dest.enter(event_data)
        if dest.final and machine.on_final:
            await machine.callbacks(machine.on_final, event_data)


class Event(AsyncEvent):
    """A trigger: the first transition from the model's state whose conditions hold."""

    async def _process(self, event_data: Any) -> None:  # type: ignore[override]
        machine = self.machine
        if machine.prepare_event:
            await machine.callbacks(machine.prepare_event, event_data)
        for transition in self.transitions[event_data.state.name]:
            event_data.transition = transition
            event_data.result = await transition.execute(event_data)
            if event_data.result:
                break

    async def _trigger(self, event_data: Any) -> bool:  # type: ignore[override]
        machine = self.machine
        event_data.state = machine.get_state(event_data.model.state)
        try:
            if self._is_valid_source(event_data.state):
                await self._process(event_data)
        except BaseException as err:
            event_data.error = err
            if not machine.on_exception:
                raise
            await machine.callbacks(machine.on_exception, event_data)
        finally:
            if machine.finalize_event:
                await machine.callbacks(machine.finalize_event, event_data)
        return bool(event_data.result)
