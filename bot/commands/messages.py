"""My Messages and voicemail: messages, broadcast, mailbox, voicemail, next, play, keep, delete."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.errors import CommandError
from bot.interaction.model import Interaction
from bot.outbound import Priority

if TYPE_CHECKING:
    from bot.core import Core
    from bot.dispatch.turn import Turn

PIN = re.compile(r"^\d{4,8}$")
AUDIENCE = re.compile(r"^(?:@[\w.-]+|(?:group|skill|queue|rp|role):[\w.-]+|all)$")
MESSAGE_ID = re.compile(r"#?([0-9]{1,18})")  # ASCII digits that fit a SQLite integer
PAGE = re.compile(r"0*[1-9][0-9]{0,8}")


async def messages(core: Core, turn: Turn) -> str:
    """List your system messages newest first; ``read ID|all``, ``clear`` (MSG-1)."""
    inbox, me = core.inbox, turn.me.id
    args = turn.args
    if args[:1] == ["read"] and len(args) == 2:
        if args[1] == "all":
            return f"Marked {inbox.read_all(me)} message(s) read."
        number = MESSAGE_ID.fullmatch(args[1])
        if number is None:
            raise CommandError(
                "Usage: `messages read ID` (a number from `messages`) or `messages read all`."
            )
        message = inbox.open(me, int(number[1]))
        return replace(message, status="read").line()
    if args == ["clear"]:
        return f"Cleared {inbox.clear(me)} read message(s); new ones stay."
    page = 1
    if args[:1] == ["--page"] and len(args) == 2 and PAGE.fullmatch(args[1]):
        page = int(args[1])
    elif args:
        raise CommandError(
            "Usage: `messages [--page N]`, `messages read ID|all`, `messages clear`."
        )
    listed, more = inbox.page(me, page)
    if not listed:
        return "No messages." if page == 1 else f"No messages on page {page}."
    lines = [f"My Messages ({inbox.unread(me)} new), newest first:"]
    lines += [f"  {m.line()}" for m in listed]
    if more:
        lines.append(f"More: `messages --page {page + 1}`")
    return "\n".join(lines)


async def broadcast(core: Core, turn: Turn) -> str:
    """Raise a system message: ``broadcast [TARGET] [--priority P] [--to TARGET] TEXT`` (MSG-2).

    A first word that looks like a target (``@alice``, ``group:billing``, ``role:agent``)
    is the target, like ``--to``; the reply names who received it.
    """
    words = turn.rest.split()
    priority, to = Priority.NORMAL, "all"
    if words and AUDIENCE.match(words[0]):
        to, words = words[0], words[1:]
    while words[:1] and words[0] in ("--priority", "--to"):
        if len(words) < 2:
            raise CommandError(f"`{words[0]}` needs a value.")
        if words[0] == "--priority":
            try:
                priority = Priority(words[1].lower())
            except ValueError:
                raise CommandError("Priority is one of: low, normal, high, urgent.") from None
        else:
            to = words[1]
        words = words[2:]
    if not words:
        raise CommandError(
            "Usage: `broadcast [TARGET] [--priority P] TEXT`, "
            "TARGET like @alice, group:billing or role:agent (default: everyone)."
        )
    members = core.inbox.audience(to)
    count = core.inbox.raise_message(members, " ".join(words), kind="broadcast", priority=priority)
    if to == "all":
        return f"Sent to everyone ({count} members)."
    names = ", ".join(f"@{m}" for m in members)
    return f"Sent to {to}: {names}." if names else f"Nobody is in {to}; nothing was sent."


async def mailbox(core: Core, turn: Turn) -> str:
    """Message-waiting indicator: new and old messages per mailbox you may read (MSG-4)."""
    me = turn.me.id
    if turn.args[:1] == ["pin"]:
        if len(turn.args) not in (2, 3) or not PIN.match(turn.args[1]):
            raise CommandError("Usage: `mailbox pin NNNN [MAILBOX]` with 4 to 8 digits.")
        box = core.mailboxes.get(turn.args[2] if len(turn.args) == 3 else me)
        if not core.mailboxes.may_read(me, box):
            raise CommandError(f"You may not set the PIN of the {box.id} mailbox.")
        core.mailboxes.set_pin(box.id, turn.args[1])
        return f"The PIN of the {box.id} mailbox is set."
    if turn.args:
        raise CommandError("Usage: `mailbox` or `mailbox pin NNNN [MAILBOX]`.")
    lines = ["Mailboxes (new / old):"]
    for box in core.mailboxes.readable(me):
        new, old = core.mailboxes.counts(box.id)
        flag = " ⚑" if new else ""
        kind = " (group)" if box.group else ""
        lines.append(f"  {box.id}{kind}: {new} new, {old} old{flag}")
    return "\n".join(lines)


async def voicemail(core: Core, turn: Turn) -> str:
    """Listen to a mailbox: an internal interaction with next / play / keep / delete (MSG-5)."""
    box = turn.args[0].removeprefix("vm:") if turn.args else turn.me.id
    return await core.engine.voicemail.start(turn.me.id, box)


def _session(core: Core, turn: Turn) -> Interaction:
    if turn.command.context is None and core.engine.current(turn.me.id) is None:
        raise CommandError("Start a voicemail session first: `voicemail [MAILBOX]`.")
    ix = core.engine.pick(turn.me.id, turn.command.context)
    return core.engine.voicemail.session(turn.me.id, ix)


async def pin(core: Core, turn: Turn) -> str:
    """Enter the mailbox PIN."""
    return await core.engine.voicemail.unlock(turn.me.id, _session(core, turn), turn.args[0])


async def browse(core: Core, turn: Turn) -> str:
    """``next``, ``play``, ``keep``, ``delete`` in a voicemail session."""
    assert turn.spec is not None
    return await core.engine.voicemail.browse(turn.me.id, _session(core, turn), turn.spec.name)
