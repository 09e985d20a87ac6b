"""The core: store, clock, directory, policy and commands, and the one way in (``handle``)."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.clock import Clock
from bot.delivery import Delivery
from bot.directory.service import Directory
from bot.dispatch.commands import command_table
from bot.dispatch.pipeline import STEPS, run
from bot.dispatch.table import CommandTable
from bot.dispatch.turn import Turn
from bot.events import Command
from bot.metrics import Metrics
from bot.rules.check import Rules, load_rules
from bot.rules.errors import RulesInvalid
from bot.storage import Store

log = logging.getLogger("backline.core")


class Core:
    """Everything a command handler may use; adapters call ``handle``."""

    def __init__(self, store: Store, clock: Clock, rules: Rules) -> None:
        self.store = store
        self.clock = clock
        self.rules = rules
        self.policy = rules.policy
        self.directory = Directory(
            store, clock, rules.directory, index_groups=rules.policy.groups.searchable
        )
        self.commands: CommandTable = command_table()
        self.delivery = Delivery()
        self.metrics = Metrics()
        self.metrics.watch_availability(self.directory.counts)

    @classmethod
    def open(cls, rules_dir: Path, database: Path | str, clock: Clock) -> Core:
        """Load the rules (raising ``RulesInvalid``) and open the store."""
        rules = load_rules(rules_dir)  # invalid rules never create or touch a database
        return cls(Store(database), clock, rules)

    async def handle(self, command: Command) -> Turn:
        """Run one command through the pipeline, then deliver what it produced."""
        turn = Turn(command)
        with self.metrics.timer():
            async with self.store.lock:
                await run(self, turn, STEPS)
        self.metrics.count(turn)
        await self.delivery.deliver(turn.outbound)
        return turn

    def record_refusal(self, turn: Turn, message: str) -> None:
        """Log a refused command as an event, so refusals can be audited by ref."""
        with self.store.transaction():
            self.store.append_event(
                self.clock.now(),
                "refused",
                actor=turn.member.id if turn.member else None,
                subject=turn.member.ref if turn.member else None,
                data={
                    "ref": turn.ref,
                    "text": turn.command.text,
                    "reason": message,
                    "platform": turn.command.platform,
                    "sender": turn.command.sender,
                },
            )

    def refresh(self) -> None:
        """Re-read in-memory state from the store after a rolled-back transaction."""
        self.directory.refresh()

    def has_active_interaction(self, member_id: str) -> bool:
        """Whether the member is in a live interaction (interactions arrive in their issue)."""
        return False

    def reload_rules(self) -> list[str]:
        """Reload directory and policy; on any error keep the old rules and return why."""
        try:
            rules = load_rules(self.rules.folder)
        except RulesInvalid as exc:
            log.warning("rules reload refused: %s", exc)
            return [str(e) for e in exc.errors]
        self.rules, self.policy = rules, rules.policy
        self.directory.load(rules.directory, index_groups=rules.policy.groups.searchable)
        return []
