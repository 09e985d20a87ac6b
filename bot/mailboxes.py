"""Voicemail boxes: who may read which, message-waiting counts, depositing and playing (MSG-4..6).

A group mailbox's read state is shared: a message heard by one member is old for all
(MSG-6), because the state lives on the message, not per reader.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.directory.model import Mailbox
from bot.errors import CommandError
from bot.rules.duration import format_duration

if TYPE_CHECKING:
    from bot.core import Core


@dataclass(frozen=True)
class Voicemail:
    """One message in a mailbox."""

    id: int
    mailbox: str
    caller: str
    at: float
    duration: float
    media: str | None
    text: str | None
    status: str  # new or old

    def describe(self) -> str:
        """Caller, time, duration, then the media path or the text (MSG-5 on the console)."""
        at = time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.at))
        head = f"#{self.id} from {self.caller} at {at}, {self.duration:.0f}s ({self.status})"
        body = self.media if self.media else (self.text or "(no words)")
        return f"{head}\n{body}"


class Mailboxes:
    """Mailboxes as the directory declares them; messages in the store."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def get(self, box_id: str) -> Mailbox:
        """The mailbox ``box_id``; refused if there is none."""
        box = self.core.directory.data.mailboxes.get(box_id)
        if box is None:
            raise CommandError(f"There is no mailbox '{box_id}'. `mailbox` lists yours.")
        return box

    def may_read(self, member_id: str, box: Mailbox) -> bool:
        """Your own box; a group's box if you are a member or supervisor of the group."""
        if not box.group:
            return box.owner == member_id
        group = self.core.directory.data.groups.get(f"group:{box.owner}")
        return group is not None and (member_id in group.members or member_id in group.supervisors)

    def readable(self, member_id: str) -> list[Mailbox]:
        """Every mailbox the member may read, their own first."""
        boxes = [
            b for b in self.core.directory.data.mailboxes.values() if self.may_read(member_id, b)
        ]
        return sorted(boxes, key=lambda b: (b.group, b.id))

    def counts(self, box_id: str) -> tuple[int, int]:
        """``(new, old)``: the message-waiting indicator of one mailbox (MSG-4)."""
        rows = dict(
            self.core.store.conn.execute(
                "SELECT status, count(*) FROM voicemails WHERE mailbox = ? GROUP BY status",
                (box_id,),
            ).fetchall()
        )
        return int(rows.get("new", 0)), int(rows.get("old", 0))

    def deposit(
        self,
        box_id: str,
        caller: str,
        *,
        text: str | None = None,
        duration: float = 0.0,
        media: str | None = None,
    ) -> int:
        """Leave a new message; the box's readers see the indicator change at once."""
        cursor = self.core.store.conn.execute(
            "INSERT INTO voicemails (mailbox, caller, at, duration, media, text, status)"
            " VALUES (?, ?, ?, ?, ?, ?, 'new')",
            (box_id, caller, self.core.clock.now(), duration, media, text),
        )
        self.core.store.append_event(
            self.core.clock.now(),
            "voicemail",
            subject=f"vm:{box_id}",
            data={"id": cursor.lastrowid, "caller": caller},
        )
        self.announce(box_id, caller, duration)
        return int(cursor.lastrowid or 0)

    def readers(self, box_id: str) -> list[str]:
        """Who hears of a new message: the owner, or the group's members and supervisors."""
        box = self.get(box_id)
        if not box.group:
            return [box.owner]
        group = self.core.directory.data.groups.get(f"group:{box.owner}")
        return [] if group is None else list(dict.fromkeys((*group.members, *group.supervisors)))

    def announce(self, box_id: str, caller: str, duration: float) -> None:
        """A My Messages entry (voicemail, caller, duration) with the indicator (MSG-3, MSG-4).

        Every reader gets it at the moment the message is left.
        """
        new, old = self.counts(box_id)
        text = (
            f"New voicemail in {box_id} from {caller} ({format_duration(max(1, round(duration)))});"
            f" {box_id}: {new} new, {old} old. `voicemail {box_id}` to listen."
        )
        self.core.inbox.raise_message(self.readers(box_id), text, kind="voicemail")

    def owner_name(self, box: Mailbox) -> str:
        """Whose box it is, as a customer may read it: ``Dana Diaz`` or ``Support``."""
        if box.group:
            group = self.core.directory.data.groups.get(f"group:{box.owner}")
            return group.name if group else box.id
        member = self.core.directory.data.members.get(box.owner)
        return member.name if member else box.id

    def describe(self, box: Mailbox) -> str:
        """``vm:dana Dana Diaz's mailbox — 1 new, 0 old`` (``status vm:dana``, favourites)."""
        new, old = self.counts(box.id)
        return f"vm:{box.id} {self.owner_name(box)}'s mailbox — {new} new, {old} old"

    def group_box(self, group_id: str) -> str | None:
        """The mailbox a group shares, if it has one."""
        for box in self.core.directory.data.mailboxes.values():
            if box.group and box.owner == group_id:
                return box.id
        return None

    def messages(self, box_id: str) -> list[Voicemail]:
        """The box's messages: new ones first, oldest first within each."""
        rows = self.core.store.conn.execute(
            "SELECT id, mailbox, caller, at, duration, media, text, status FROM voicemails"
            " WHERE mailbox = ? ORDER BY status = 'old', at, id",
            (box_id,),
        )
        return [Voicemail(*row) for row in rows]

    def mark_old(self, message_id: int) -> None:
        """Heard (or kept): old for every reader of the box (MSG-6)."""
        self.core.store.conn.execute(
            "UPDATE voicemails SET status = 'old' WHERE id = ?", (message_id,)
        )

    def delete(self, message_id: int) -> None:
        """Remove a message."""
        self.core.store.conn.execute("DELETE FROM voicemails WHERE id = ?", (message_id,))

    def set_pin(self, box_id: str, pin: str) -> None:
        """Set the box's PIN (stored hashed)."""
        self.core.store.conn.execute(
            "UPDATE mailboxes SET pin = ? WHERE id = ?", (_hash(box_id, pin), box_id)
        )

    def has_pin(self, box_id: str) -> bool:
        """Whether the box has a PIN."""
        row = self.core.store.conn.execute(
            "SELECT pin FROM mailboxes WHERE id = ?", (box_id,)
        ).fetchone()
        return bool(row and row[0])

    def pin_ok(self, box_id: str, pin: str) -> bool:
        """Whether ``pin`` opens the box."""
        row = self.core.store.conn.execute(
            "SELECT pin FROM mailboxes WHERE id = ?", (box_id,)
        ).fetchone()
        return bool(row and row[0] == _hash(box_id, pin))

    def expire(self, before: float) -> int:
        """Retention: delete messages older than ``before``."""
        cursor = self.core.store.conn.execute("DELETE FROM voicemails WHERE at < ?", (before,))
        return cursor.rowcount


def _hash(box_id: str, pin: str) -> str:
    return hashlib.sha256(f"{box_id}:{pin}".encode()).hexdigest()
