"""The core: store, clock, directory, policy, interactions, commands; ``handle`` is the way in."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from bot import heap
from bot.addresses import AddressBook
from bot.clock import Clock
from bot.delivery import Delivery
from bot.directory.plan import Plan
from bot.directory.reload import Progress, read_rules, reload_in_steps
from bot.directory.service import Directory
from bot.directory.stored import peek
from bot.dispatch.commands import command_table
from bot.dispatch.pipeline import STEPS, new_ref, run
from bot.dispatch.table import CommandTable
from bot.dispatch.turn import Turn
from bot.events import Command
from bot.inbox import Inbox
from bot.interaction.automation import Automation
from bot.interaction.engine import Engine
from bot.interaction.machines import CUSTOMER_KINDS
from bot.mailboxes import Mailboxes
from bot.metrics import Metrics
from bot.outbound import Priority, Say
from bot.port.types import Unsupported
from bot.rules.check import Rules, load_rules
from bot.storage import Store
from bot.storage.sqlite import Synchronous

log = logging.getLogger("backline.core")
T = TypeVar("T")
RETENTION_EVERY = 3600.0
KEYS_KEPT = 86400.0  # seconds a delivery key is remembered (retries come well within it)


class Core:
    """Everything a command handler may use; adapters call ``handle``."""

    def __init__(self, store: Store, clock: Clock, rules: Rules) -> None:
        self.store = store
        self.clock = clock
        self.rules = rules
        self.policy = rules.policy
        self.directory = Directory(
            store,
            clock,
            rules.directory,
            index_groups=rules.policy.groups.searchable,
            digest=rules.directory_digest,
        )
        self.commands: CommandTable = command_table()
        self.addresses = AddressBook(store)
        self.delivery = Delivery(self._handle_of, self.addresses.address_of)
        self.metrics = Metrics()
        self.metrics.watch_availability(self.directory.counts)
        self._outbox: list[Say] = []
        self._after_reply: list[Callable[[], Awaitable[None]]] = []
        self.tasks: set[asyncio.Task[None]] = set()  # long work a command started (reload)
        self.inbox = Inbox(self)
        self.mailboxes = Mailboxes(self)
        self.engine = Engine(self, rules.machines)
        self.automation = Automation(self, rules.triggers)
        self.engine.listeners.append(self.automation.heard)
        with store.transaction():
            self.engine.restore()
            self.engine.recount_load()
            self.directory.became_available.clear()
        heap.settle()  # what start-up built is never walked by the collector again
        self._schedule_retention()

    @classmethod
    def open(
        cls,
        rules_dir: Path,
        database: Path | str,
        clock: Clock,
        *,
        synchronous: Synchronous = "NORMAL",
    ) -> Core:
        """Load the rules (raising ``RulesInvalid``) and open the store."""
        # Invalid rules never create or touch a database; an unchanged directory file is
        # taken from the store instead of being parsed again.
        rules = load_rules(rules_dir, known=peek(database))
        return cls(Store(database, synchronous=synchronous), clock, rules)

    async def handle(
        self, command: Command, respond: Callable[[Turn], Awaitable[None]] | None = None
    ) -> Turn:
        """Run one command through the pipeline, then deliver what it produced.

        ``respond`` (the adapter's reply to the sender) runs after the commit and before
        anyone else's messages are delivered, so the sender reads the reply first.
        """
        turn = Turn(command)
        start = time.perf_counter()
        async with self.store.lock:
            await run(self, turn, STEPS)
            ok = turn.outcome == "ok"
            outbound = [*turn.outbound, *self._outbox] if ok else []
            after = self._after_reply if ok else []
            turn.touched = frozenset(self.engine.touched) if ok else frozenset()
            self._outbox.clear()
            self._after_reply = []
        self.metrics.handled(turn, time.perf_counter() - start)
        if respond is not None:
            await respond(turn)
        await self._deliver(outbound, turn.touched)
        for work in after:
            await work()
        return turn

    def after_reply(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` once this command committed and was answered, with the store unlocked."""
        self._after_reply.append(work)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in a task of its own, so nobody waits for it; ``stop_tasks`` ends it."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop_tasks(self) -> None:
        """Cancel the spawned work still running and wait until it has stopped."""
        running = list(self.tasks)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _handle_of(self, member_id: str, platform: str) -> str | None:
        return self.directory.identities.handles(member_id).get(platform)

    async def _deliver(self, outbound: list[Say], touched: frozenset[str]) -> None:
        refused = await self.delivery.deliver(outbound, touched)
        if refused:
            await self._report_unsupported(refused)

    async def _report_unsupported(self, refused: list[tuple[str, Unsupported]]) -> None:
        """Messages an adapter could not render reach the member another way (and My Messages).

        The report itself is delivered once; what an adapter refuses of it is only logged.
        """

        async def report() -> None:
            for platform, exc in refused:
                for message in exc.messages:
                    if not message.to.startswith("@"):
                        log.warning("%s cannot show %s a message: %s", platform, message.to, exc)
                        continue
                    text = f"{platform} could not show you a message ({exc.reason}): {message.text}"
                    self.inbox.raise_message(
                        [message.to[1:]], text, kind="adapter", priority=Priority.HIGH
                    )

        _, messages, _ = await self._transact(report)
        for platform, exc in await self.delivery.deliver(messages):
            log.warning("%s could not render a report either: %s", platform, exc)

    def emit(self, message: Say) -> None:
        """Queue a message; it leaves only after the current transaction committed."""
        self._outbox.append(message)

    def begin(self) -> None:
        """A transaction starts: nothing is touched yet."""
        self.engine.touched.clear()
        self.directory.dirty = False
        self.addresses.dirty = False

    async def settle(self) -> None:
        """Before commit: offer waiting work to members who just became available (GRP-3)."""
        while self.directory.became_available or self.automation.pending:
            await self.automation.run_pending()
            while self.directory.became_available:
                member_id = self.directory.became_available.pop(0)
                await self.engine.offers.member_available(member_id)

    async def act(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run work that is not a member's command (a customer, a timer) as one transaction."""
        result, outbound, touched = await self._transact(work)
        await self._deliver(outbound, touched)
        return result

    async def _transact(
        self, work: Callable[[], Awaitable[T]]
    ) -> tuple[T, list[Say], frozenset[str]]:
        async with self.store.lock:
            self.begin()
            try:
                with self.store.transaction():
                    result = await work()
                    await self.settle()
            except BaseException:
                self.refresh()
                raise
            outbound, self._outbox = self._outbox, []
            return result, outbound, frozenset(self.engine.touched)

    async def run_timer(self, fire: Callable[[], Awaitable[None]]) -> None:
        """A timer's work: like ``act``, but a failure is logged with a ref, never raised."""
        try:
            await self.act(fire)
        except Exception:
            log.exception("timer failed ref=%s", new_ref())

    def _schedule_retention(self) -> None:
        """Every hour, drop what is kept no longer: old voicemail, read messages, keys.

        Voicemail and messages as long as the rules say, delivery keys ``KEYS_KEPT``.
        """

        async def sweep() -> None:
            day, now = 86400.0, self.clock.now()
            self.store.forget_keys(now - KEYS_KEPT)
            kept = self.policy.voicemail.keep_days, self.policy.messages.keep_days
            voicemails = self.mailboxes.expire(now - kept[0] * day)
            messages = self.inbox.expire(now - kept[1] * day)
            if voicemails or messages:
                self.store.append_event(
                    now, "retention", data={"voicemails": voicemails, "messages": messages}
                )

        async def run() -> None:
            await self.run_timer(sweep)
            self._schedule_retention()

        self.clock.call_at(self.clock.now() + RETENTION_EVERY, run)

    async def adapter_changed(self, name: str, *, up: bool) -> None:
        """An adapter went down or came back: tell the members it serves (MSG-2).

        The message reaches them on the adapters still up; messages that waited for this
        adapter are delivered once it is back.
        """
        affected = [
            m for m in self.directory.data.members if name in self.directory.identities.platforms(m)
        ]
        self.delivery.mark(name, up=up)
        text = (
            f"{name} is back; messages held while it was down are being delivered."
            if up
            else f"{name} is down; messages for you there are held until it is back."
        )

        async def raise_it() -> None:
            self.store.append_event(self.clock.now(), "adapter", subject=name, data={"up": up})
            self.inbox.raise_message(
                affected, text, kind="adapter", priority=Priority.NORMAL if up else Priority.HIGH
            )

        if up:  # what waited goes first, in order; the "back" news must not precede "down"
            refused = await self.delivery.flush()
            if refused:
                await self._report_unsupported(refused)
        await self.act(raise_it)

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
        """Re-read what a rolled-back transaction touched, so memory matches the store."""
        if self.directory.dirty:
            self.directory.refresh()
        if self.addresses.dirty:
            self.addresses.reload()
        if self.engine.touched:
            touched = set(self.engine.touched)
            members = self.engine.members_in(touched)  # as the rolled-back command left them
            self.engine.restore(only=touched)
            self.engine.recount_load(members | self.engine.members_in(touched))
        self._outbox.clear()
        self.automation.pending.clear()

    def has_active_interaction(self, member_id: str) -> bool:
        """Whether the member handles a live customer interaction now (DIR-3 actions)."""
        return any(ix.kind in CUSTOMER_KINDS for ix in self.engine.interactions_of(member_id))

    def reload_rules(self) -> list[str]:
        """Reload directory, policy and machines at once; on any error keep the old rules (RUL-5).

        This runs inside the caller's command; ``reload`` is the way that never holds
        commands up.
        """
        if self.directory.loading:
            return ["a reload is already under way; try again in a moment"]
        rules = read_rules(self)
        if isinstance(rules, list):
            return rules
        stranded = self.engine.unplaceable(rules.machines)
        if stranded:
            return stranded
        self.directory.load(
            rules.directory,
            index_groups=rules.policy.groups.searchable,
            digest=rules.directory_digest,
        )
        self._use(rules)
        return []

    async def reload(self, progress: Progress | None = None) -> list[str]:
        """Reload the rules while commands go on (SIGHUP, `reload`); on error keep the old ones.

        The files are read and the directory's changes planned in a worker thread; the
        rows are written in short steps between commands; memory and the new rules are
        swapped in with one short transaction (see ``Directory.write_steps``). ``progress``
        hears the plan before its rows are written.
        """
        if self.directory.loading:
            return ["a reload is already under way"]
        self.directory.loading = True
        try:
            return await reload_in_steps(self, progress)
        finally:
            self.directory.loading = False

    def use_rules(self, rules: Rules, plan: Plan | None) -> list[str]:
        """The last step of ``reload``: swap in the planned directory and the new rules.

        A live interaction stranded by the new machines (one may have moved while the
        directory was written) keeps the old machines, policy and triggers.
        """
        if plan is not None:
            self.directory.swap(plan)
        stranded = self.engine.unplaceable(rules.machines)
        if stranded:
            self.rules = replace(
                self.rules, directory=rules.directory, directory_digest=rules.directory_digest
            )
            return stranded
        self._use(rules)
        return []

    def _use(self, rules: Rules) -> None:
        self.rules, self.policy = rules, rules.policy
        if rules.machines != self.engine.specs:  # unchanged machines keep their models
            self.engine.reload_machines(rules.machines)
        self.automation.triggers = rules.triggers
        heap.refreeze()
