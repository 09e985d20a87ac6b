"""Calling colleagues: ``call TARGET`` and ``retry TARGET`` (DIR-3)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.errors import CommandError
from bot.events import Command

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn

ATTEMPTS = ("call", "im", "consult", "transfer", "conference")  # what `retry` repeats
LOOK_BACK = 200  # of the member's own latest commands


async def call(core: Core, turn: Turn) -> str:
    """Call a member, a group, a queue, a routing point or a skill, with no customer."""
    found = core.directory.resolve(turn.args[0])
    return await core.engine.calls.call(turn.me.id, found) or "The call could not start."


async def retry(core: Core, turn: Turn) -> str:
    """Repeat your last failed attempt to reach a target, exactly as you typed it."""
    ref = core.directory.resolve(turn.args[0]).ref
    if not core.directory.contacts.failed_recently(turn.me.id, ref):
        raise CommandError(
            f"Your last attempt to reach {ref} did not fail, so there is nothing to retry; "
            f"`call {ref}` or `im {ref}`."
        )
    text = last_attempt(core, turn, ref)
    if text is None:
        raise CommandError(f"I no longer know how you tried {ref}; `call {ref}` or `im {ref}`.")
    spec = core.commands.get(text.split()[0])
    if spec is None or not spec.allowed(turn.me):
        raise CommandError(f"Your last attempt at {ref} cannot be repeated; `call {ref}` instead.")
    again = replace(turn, command=Command(turn.command.platform, turn.command.sender, text))
    again.spec, again.rest = spec, text.partition(" ")[2].strip()
    again.args = again.rest.split()
    reply = await spec.handler(core, again)
    turn.outbound += again.outbound
    return f"Retrying `{text}`:\n{reply}"


def last_attempt(core: Core, turn: Turn, ref: str) -> str | None:
    """The member's latest ``call``/``im``/``consult``/``transfer``/``conference`` at ``ref``."""
    core.store.flush()
    rows = core.store.conn.execute(
        "SELECT data FROM events WHERE kind = 'command' AND subject = ? ORDER BY id DESC LIMIT ?",
        (turn.me.ref, LOOK_BACK),
    )
    for (data,) in rows:
        text = str(json.loads(data)["text"]).strip()
        words = text.split()
        if len(words) < 2 or words[0].lower() not in ATTEMPTS:
            continue
        if any(_names(core, word, ref) for word in words[1:3]):
            return text
    return None


def _names(core: Core, word: str, ref: str) -> bool:
    try:
        return core.directory.resolve(word).ref == ref
    except CommandError:
        return False
