"""Runs trigger rules (RUL-3) when interaction events happen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.directory.model import Group, Member
from bot.errors import CommandError
from bot.interaction.model import Interaction
from bot.outbound import Priority
from bot.rules.duration import format_duration
from bot.rules.triggers import Trigger

if TYPE_CHECKING:
    from bot.core import Core


class Automation:
    """Collects events as they happen and runs matching triggers before the commit."""

    def __init__(self, core: Core, triggers: list[Trigger]) -> None:
        self.core = core
        self.triggers = triggers
        self.pending: list[tuple[str, Interaction]] = []

    def heard(self, event: str, ix: Interaction) -> None:
        """Engine listener: remember the event; ``run_pending`` acts on it."""
        if any(t.on == event for t in self.triggers):
            self.pending.append((event, ix))

    def values(self, ix: Interaction) -> dict[str, str]:
        """The fields a trigger may test and a template may use."""
        values = {
            "id": ix.id,
            "kind": ix.kind,
            "state": ix.state,
            "customer": ix.customer or "",
            "owner": f"@{ix.owner}" if ix.owner else "",
            "target": ix.target or "",
            "hold_limit": format_duration(self.core.policy.hold.escalate_after),
        }
        values.update({f"case.{k}": v for k, v in ix.case.items()})
        return values

    async def run_pending(self) -> None:
        """Run every trigger matching the collected events, in order."""
        while self.pending:
            event, ix = self.pending.pop(0)
            values = self.values(ix)
            for trigger in self.triggers:
                if trigger.on == event and trigger.matches(values):
                    await self.run(trigger, ix, values)

    async def run(self, trigger: Trigger, ix: Interaction, values: dict[str, str]) -> None:
        """Carry out one trigger's actions; a failing action is recorded, the rest still run."""
        engine = self.core.engine
        engine.event(ix, "trigger", {"name": trigger.name})
        for action, arg in trigger.do:
            try:
                await self.act(action, arg, ix, values)
            except CommandError as exc:
                engine.event(
                    ix,
                    "trigger_failed",
                    {"name": trigger.name, "action": action, "reason": exc.message},
                )
        engine.save(ix)

    async def act(self, action: str, arg: object, ix: Interaction, values: dict[str, str]) -> None:
        """One action of the documented set."""
        engine = self.core.engine
        fill = values.copy()
        if action == "say":
            engine.lifecycle.customer_hears(ix, str(arg).format_map(fill))
        elif action == "set":
            assert isinstance(arg, dict)
            ix.case.update({str(k): str(v).format_map(fill) for k, v in arg.items()})
        elif action == "transfer":
            if ix.owner is None:
                raise CommandError(f"{ix.id} has no owner to transfer it for.")
            target = self.core.directory.resolve(str(arg).format_map(fill))
            await engine.transfers.transfer(ix.owner, ix, target)
        else:
            assert isinstance(arg, dict)
            text = str(arg["text"]).format_map(fill)
            priority = Priority(
                str(arg.get("priority", "high" if action == "escalate" else "normal"))
            )
            recipients = self.recipients(
                "supervisors" if action == "escalate" else str(arg["to"]), ix
            )
            if action == "notify":
                for member_id in recipients:
                    engine.tell(f"@{member_id}", text, ix)
            else:
                self.core.inbox.raise_message(recipients, text, kind=action, priority=priority)

    def recipients(self, to: str, ix: Interaction) -> list[str]:
        """Member ids named by ``owner``, ``supervisors``, ``@member`` or ``group:NAME``."""
        if to == "owner":
            return [ix.owner] if ix.owner else []
        if to == "supervisors":
            owner = self.core.directory.data.members.get(ix.owner or "")
            groups = self.core.directory.data.groups
            found = [
                s for g in (owner.groups if owner else ()) for s in groups[f"group:{g}"].supervisors
            ]
            return list(dict.fromkeys(found))
        target = self.core.directory.resolve(to)
        if isinstance(target, Member):
            return [target.id]
        assert isinstance(target, Group)
        return list(target.members)
