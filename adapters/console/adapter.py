"""The console adapter: reaches every member and customer, prints what each receives."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from adapters.console.convert import (
    Blank,
    Line,
    ScriptError,
    Sim,
    SwitchTo,
    Tick,
    Typed,
    parse_line,
    render,
)
from bot.port import Address, Batch, CommandError, Port, Reply, Say

PLATFORM = "console"


class ConsoleAdapter:
    """Prints every delivery as ``[@bob] text``; members type as ``@alice: COMMAND``."""

    name = PLATFORM
    reaches_everyone = True

    def __init__(
        self,
        port: Port,
        out: TextIO = sys.stdout,
        *,
        echo: bool = True,
        member: str | None = None,
        repl: bool = False,
    ) -> None:
        self.port = port
        self.out = out
        self.echo = echo
        self.current = member
        self._repl = repl
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """On ``backline run`` from a terminal: read commands from stdin."""
        if self._repl:
            self._task = asyncio.create_task(self.repl(stdin_lines(), prompt))

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def send(self, batch: Batch) -> None:
        """Print each delivery."""
        for message in batch.messages:
            self.write(*render(message.say))

    def write(self, *lines: str) -> None:
        """Print transcript lines and flush, so a reader sees each reply at once."""
        for line in lines:
            print(line, file=self.out)
        self.out.flush()

    async def type(self, member: str, text: str) -> Reply:
        """Member ``member`` types ``text``; the reply is printed under their name."""
        if self.echo:
            self.write(f"@{member}: {text}")

        async def reply(answer: Reply) -> None:
            if answer.text:
                self.write(*render(Say(f"@{member}", answer.text)))

        return await self.port.command(member, text, reply)

    async def perform(self, line: Line) -> None:
        """Carry out one parsed console line."""
        match line:
            case Typed(member=None, text=text):
                if self.current is None:
                    raise ScriptError("type `as @alice` first to choose who you are")
                await self.type(self.current, text)
            case Typed(member=str(member), text=text):
                await self.type(member, text)
            case SwitchTo(member=member):
                self.port.member_by_id(member)
                self.current = member
                self.write(f"(you are now @{member})")
            case Tick(seconds=seconds):
                try:
                    await self.port.tick(seconds)
                except CommandError as exc:
                    raise ScriptError(exc.message) from None
                if self.echo:
                    self.write(f"(+{seconds:g}s)")
            case Sim():
                if self.echo:
                    words = ("sim", line.action, line.name, line.target, line.text)
                    self.write(" ".join(w for w in words if w))
                try:
                    await self.simulate(line)
                except CommandError as exc:
                    self.write(f"! customer:{line.name}: {exc.message}")
            case Blank():
                pass

    async def simulate(self, sim: Sim) -> None:
        """Carry out a customer's action (INT-2); the customer is ``console:NAME``."""
        address = Address(PLATFORM, sim.name)
        if sim.action == "say":
            await self.port.customer_said(address, sim.text)
        elif sim.action == "hangup":
            await self.port.customer_left(address)
        else:
            kind = "voice" if sim.action == "call" else sim.action
            await self.port.customer_arrived(address, kind, sim.target, sim.text, display=sim.name)

    async def run_script(self, lines: list[Line]) -> None:
        """Run a parsed script in order."""
        for line in lines:
            await self.perform(line)

    async def repl(self, lines: AsyncIterator[str], prompt: Callable[[str], None]) -> None:
        """Read lines until end of input; errors in a line are shown, never fatal."""
        prompt(f"{self.current or 'nobody'}> ")
        async for raw in lines:
            try:
                await self.perform(parse_line(raw))
            except (ScriptError, CommandError) as exc:
                self.write(f"! {exc}")
            prompt(f"{self.current or 'nobody'}> ")


def prompt(text: str) -> None:
    """Show the prompt."""
    print(text, end="", flush=True)


async def stdin_lines(stream: TextIO = sys.stdin) -> AsyncIterator[str]:
    """Lines of ``stream`` read by a daemon thread, so a blocked read never stalls shutdown."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, "")

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    while line := await queue.get():
        yield line
