"""System messages in each member's My Messages (MSG-1, MSG-2), pushed as a preview (MSG-3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.outbound import Priority, Say

if TYPE_CHECKING:
    from bot.core import Core


def raise_message(
    core: Core,
    member_id: str,
    text: str,
    *,
    kind: str = "system",
    priority: Priority = Priority.NORMAL,
) -> int:
    """Store a new system message for ``member_id`` and push its preview."""
    cursor = core.store.conn.execute(
        "INSERT INTO inbox (member_id, type, priority, at, text, status)"
        " VALUES (?, ?, ?, ?, ?, 'new')",
        (member_id, kind, priority.value, core.clock.now(), text),
    )
    core.emit(Say(f"@{member_id}", f"New message: {text}", priority=priority))
    return int(cursor.lastrowid or 0)
