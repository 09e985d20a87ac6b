"""The pipeline as a list of small steps, each ``(core, turn, next)`` (bolt's middleware shape).

Order: guard (errors become replies) → dedupe → identify → parse → authorize → commit →
handle. The reply and every outbound message leave only after ``commit`` returned, so a
command that got a reply is durable.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from bot.dispatch.turn import Turn
from bot.errors import CommandError

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger("backline.dispatch")

Next = Callable[[], Awaitable[None]]
Step = Callable[["Core", Turn, Next], Awaitable[None]]


def new_ref() -> str:
    """A short reference id shown to the user and carried by the log line."""
    return secrets.token_hex(3)


async def run(core: Core, turn: Turn, steps: Sequence[Step]) -> None:
    """Run ``turn`` through ``steps``; each step decides whether to call the next."""
    next_: Next = _end
    for step in reversed(steps):
        next_ = partial(step, core, turn, next_)
    await next_()


async def _end() -> None:
    """After the last step: nothing more to run."""


async def guard(core: Core, turn: Turn, next_: Next) -> None:
    """Turn refusals into replies with a ref (logged), and crashes into a ref only."""
    try:
        await next_()
    except CommandError as exc:
        turn.ref, turn.outcome = new_ref(), "refused"
        turn.reply, turn.outbound = f"{exc.message} (ref {turn.ref})", []
        log.info(
            "refused ref=%s sender=%s text=%r: %s",
            turn.ref,
            _who(turn),
            turn.command.text,
            exc.message,
        )
        core.record_refusal(turn, exc.message)
    except Exception:
        turn.ref, turn.outcome = new_ref(), "error"
        turn.reply, turn.outbound = (
            (
                f"Sorry, something went wrong on our side (ref {turn.ref}). Nothing was changed; "
                "try again, or give the ref to an admin."
            ),
            [],
        )
        log.exception(
            "internal error ref=%s sender=%s text=%r", turn.ref, _who(turn), turn.command.text
        )


def _who(turn: Turn) -> str:
    return turn.member.ref if turn.member else f"{turn.command.platform}:{turn.command.sender}"


async def dedupe(core: Core, turn: Turn, next_: Next) -> None:
    """A delivery seen before (same key) acts once: replay the stored reply only."""
    key = turn.command.key
    stored = core.store.recall(key) if key else None
    if stored is not None:
        turn.duplicate, turn.outcome = True, "duplicate"
        turn.reply = str(stored[0]["text"]) if stored else ""
        return
    await next_()


async def identify(core: Core, turn: Turn, next_: Next) -> None:
    """Find the member behind the platform identity."""
    command = turn.command
    turn.member = core.directory.identify(command.platform, command.sender)
    if turn.member is None:
        raise CommandError(
            f"I don't know who {command.sender} on {command.platform} is. "
            "Ask an admin to add you to the directory or to `link` your account."
        )
    await next_()


async def parse(core: Core, turn: Turn, next_: Next) -> None:
    """Split the text into a command and its arguments; unknown names get a suggestion."""
    text = turn.command.text.strip()
    if not text:
        raise CommandError("Type a command, or `help` for the list.")
    name, _, rest = text.partition(" ")
    spec = core.commands.get(name)
    if spec is None:
        raise CommandError(unknown_command(core, turn, name))
    turn.spec, turn.rest, turn.args = spec, rest.strip(), rest.split()
    low, high = spec.arity
    if len(turn.args) < low or (high is not None and len(turn.args) > high):
        count = "missing arguments" if len(turn.args) < low else "too many arguments"
        raise CommandError(f"`{spec.name}`: {count}. Usage: `{spec.usage}`")
    await next_()


def unknown_command(core: Core, turn: Turn, name: str) -> str:
    """The reply to a command name that does not exist."""
    close = core.commands.suggest(name, turn.me)
    hint = f" Did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else ""
    return f"Unknown command '{name}'.{hint} Type `help` for the list."


async def authorize(core: Core, turn: Turn, next_: Next) -> None:
    """Refuse commands the member's roles do not allow (the attempt is logged)."""
    spec = turn.spec
    assert spec is not None
    if not spec.allowed(turn.me):
        raise CommandError(f"Only {spec.who()} can use `{spec.name}`.")
    await next_()


async def commit(core: Core, turn: Turn, next_: Next) -> None:
    """Run the rest in one transaction, log the command, remember the delivery key.

    If anything fails the transaction rolls back, and in-memory views are re-read from
    the store so they never show what was not stored.
    """
    core.begin()
    try:
        with core.store.transaction():
            await _handle_and_log(core, turn, next_)
    except BaseException:
        core.refresh()
        raise


async def _handle_and_log(core: Core, turn: Turn, next_: Next) -> None:
    await next_()
    await core.settle()
    core.store.append_event(
        core.clock.now(),
        "command",
        actor=turn.me.id,
        subject=turn.me.ref,
        data={"text": turn.command.text, "platform": turn.command.platform},
    )
    if turn.command.key:
        reply = [{"to": turn.me.ref, "text": turn.reply}]
        core.store.remember(turn.command.key, core.clock.now(), reply)


async def handle(core: Core, turn: Turn, next_: Next) -> None:
    """Run the command's handler; its return value is the reply."""
    assert turn.spec is not None
    turn.reply = await turn.spec.handler(core, turn)
    await next_()


STEPS: tuple[Step, ...] = (guard, dedupe, identify, parse, authorize, commit, handle)
