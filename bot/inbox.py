"""My Messages: system messages per member, newest first, with priority and status (MSG-1..3)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.directory.model import Group, Member, Role
from bot.errors import CommandError
from bot.outbound import Priority, Say

if TYPE_CHECKING:
    from bot.core import Core

MARKERS = {Priority.URGENT: "‼", Priority.HIGH: "!", Priority.NORMAL: "·", Priority.LOW: "↓"}


@dataclass(frozen=True)
class Message:
    """One system message in a member's inbox."""

    id: int
    type: str
    priority: Priority
    at: float
    text: str
    status: str  # new or read

    def line(self) -> str:
        """``#12 ! high · adapter · 10:02 · new — Slack is down``."""
        at = time.strftime("%H:%M", time.gmtime(self.at))
        return (
            f"#{self.id} {MARKERS[self.priority]} {self.priority.value} · {self.type} · {at}"
            f" · {self.status} — {self.text}"
        )


class Inbox:
    """System messages: raising them (pushed as previews), listing, reading, clearing."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def audience(self, to: str) -> list[str]:
        """Member ids for ``all``, ``@member``, ``group:NAME`` or ``role:ROLE`` (MSG-2)."""
        members = self.core.directory.data.members
        if to == "all":
            return list(members)
        if to.startswith("role:"):
            try:
                role = Role(to.removeprefix("role:"))
            except ValueError:
                raise CommandError(
                    f"'{to}' is not a role; use role:agent, role:supervisor or role:admin."
                ) from None
            return [m.id for m in members.values() if m.has(role)]
        found = self.core.directory.resolve(to)
        if isinstance(found, Member):
            return [found.id]
        assert isinstance(found, Group)
        return list(found.members) + [s for s in found.supervisors if s not in found.members]

    def raise_message(
        self,
        member_ids: list[str],
        text: str,
        *,
        kind: str = "system",
        priority: Priority = Priority.NORMAL,
    ) -> int:
        """Store a new message for each member and push its preview (MSG-3); returns how many."""
        now = self.core.clock.now()
        for member_id in member_ids:
            cursor = self.core.store.conn.execute(
                "INSERT INTO inbox (member_id, type, priority, at, text, status)"
                " VALUES (?, ?, ?, ?, ?, 'new')",
                (member_id, kind, priority.value, now, text),
            )
            preview = f"New message #{cursor.lastrowid} ({kind}): {text}"
            self.core.emit(Say(f"@{member_id}", preview, priority=priority, notice=True))
        return len(member_ids)

    def page(self, member_id: str, page: int = 1) -> tuple[list[Message], bool]:
        """One page of the member's messages, newest first, and whether more follow."""
        size = self.core.policy.messages.page_size
        rows = self.core.store.conn.execute(
            "SELECT id, type, priority, at, text, status FROM inbox WHERE member_id = ?"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (member_id, size + 1, (page - 1) * size),
        ).fetchall()
        messages = [Message(r[0], r[1], Priority(r[2]), r[3], r[4], r[5]) for r in rows]
        return messages[:size], len(messages) > size

    def unread(self, member_id: str) -> int:
        """How many of the member's messages are new."""
        row = self.core.store.conn.execute(
            "SELECT count(*) FROM inbox WHERE member_id = ? AND status = 'new'", (member_id,)
        ).fetchone()
        return int(row[0])

    def open(self, member_id: str, message_id: int) -> Message:
        """Open a message: it is read from now on (a dismissed preview leaves it new)."""
        row = self.core.store.conn.execute(
            "SELECT id, type, priority, at, text, status FROM inbox WHERE member_id = ? AND id = ?",
            (member_id, message_id),
        ).fetchone()
        if row is None:
            raise CommandError(f"You have no message #{message_id}. `messages` lists yours.")
        self.core.store.conn.execute("UPDATE inbox SET status = 'read' WHERE id = ?", (message_id,))
        return Message(row[0], row[1], Priority(row[2]), row[3], row[4], row[5])

    def read_all(self, member_id: str) -> int:
        """Mark every new message read; returns how many were new."""
        cursor = self.core.store.conn.execute(
            "UPDATE inbox SET status = 'read' WHERE member_id = ? AND status = 'new'", (member_id,)
        )
        return cursor.rowcount

    def clear(self, member_id: str) -> int:
        """Delete the member's read messages (new ones stay); returns how many went."""
        cursor = self.core.store.conn.execute(
            "DELETE FROM inbox WHERE member_id = ? AND status = 'read'", (member_id,)
        )
        return cursor.rowcount

    def expire(self, before: float) -> int:
        """Retention: delete read messages older than ``before``."""
        cursor = self.core.store.conn.execute(
            "DELETE FROM inbox WHERE status = 'read' AND at < ?", (before,)
        )
        return cursor.rowcount
