"""The console adapter: reaches every member and customer, prints what each receives."""

from __future__ import annotations

import asyncio
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
from bot.clock import FakeClock
from bot.core import Core
from bot.dispatch.turn import Turn
from bot.errors import CommandError
from bot.events import Command
from bot.outbound import Say

PLATFORM = "console"


class ConsoleAdapter:
    """Prints every delivery as ``[@bob] text``; members type as ``@alice: COMMAND``."""

    name = PLATFORM

    def __init__(self, core: Core, out: TextIO = sys.stdout, *, echo: bool = True) -> None:
        self.core = core
        self.out = out
        self.echo = echo
        self.current: str | None = None
        core.delivery.attach(self)

    def reaches(self, recipient: str) -> bool:
        """The console shows everyone's deliveries."""
        return True

    async def send(self, message: Say) -> None:
        """Print a delivery."""
        self.write(*render(message))

    def write(self, *lines: str) -> None:
        """Print transcript lines and flush, so a reader sees each reply at once."""
        for line in lines:
            print(line, file=self.out)
        self.out.flush()

    async def type(self, member: str, text: str) -> None:
        """Member ``member`` types ``text``; the reply is printed under their name."""
        if self.echo:
            self.write(f"@{member}: {text}")

        async def reply(turn: Turn) -> None:
            if turn.reply:
                self.write(*render(Say(f"@{member}", turn.reply)))

        await self.core.handle(Command(PLATFORM, member, text), reply)

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
                self.core.directory.member(member)
                self.current = member
                self.write(f"(you are now @{member})")
            case Tick(seconds=seconds):
                clock = self.core.clock
                if not isinstance(clock, FakeClock):
                    raise ScriptError("`tick` works in script mode only; real time passes here")
                await clock.advance(seconds)
                if self.echo:
                    self.write(f"(+{seconds:g}s)")
            case Sim():
                if self.echo:
                    words = ("sim", line.action, line.name, line.target, line.text)
                    self.write(" ".join(w for w in words if w))
                try:
                    await self.core.act(lambda: self.simulate(line))
                except CommandError as exc:
                    self.write(f"! customer:{line.name}: {exc.message}")
            case Blank():
                pass

    async def simulate(self, sim: Sim) -> None:
        """Carry out a customer's action (INT-2)."""
        customers = self.core.engine.customers
        if sim.action == "say":
            await customers.say(sim.name, sim.text)
        elif sim.action == "hangup":
            await customers.hang_up(sim.name)
        else:
            kind = "voice" if sim.action == "call" else sim.action
            await customers.arrive(kind, sim.name, sim.target, sim.text)

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
