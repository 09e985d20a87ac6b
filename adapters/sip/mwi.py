"""Message-waiting indication (RFC 3842): SUBSCRIBE/NOTIFY ``message-summary`` to phones.

A member's phone subscribes (digest-authenticated) to its own mailbox; it gets a NOTIFY at
once and another each time the counts change (a deposit, a message heard or deleted), as
``Voice-Message: new/old``. Subscriptions live in memory: phones refresh them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from adapters.sip.dialogs import Dialog, inbound
from adapters.sip.message import Message, response
from adapters.sip.registrar import Digest
from adapters.sip.transactions import ServerTransaction, Stack
from bot.port import Port

EVENT = "message-summary"
MAX_EXPIRES = 3600


@dataclass
class Subscription:
    """One phone watching one mailbox."""

    dialog: Dialog
    handle: str
    mailbox: str
    expires: float
    sent: tuple[int, int] | None = None


def summary(account: str, new: int, old: int) -> bytes:
    """The ``application/simple-message-summary`` body."""
    waiting = "yes" if new else "no"
    lines = [f"Messages-Waiting: {waiting}", f"Message-Account: {account}"]
    lines.append(f"Voice-Message: {new}/{old} (0/0)")
    return ("\r\n".join(lines) + "\r\n").encode()


class Mwi:
    """The subscriptions, and the NOTIFYs they are owed."""

    def __init__(self, stack: Stack, port: Port, digest: Digest) -> None:
        self.stack = stack
        self.port = port
        self.digest = digest
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self._lock = asyncio.Lock()

    async def subscribe(self, msg: Message, tx: ServerTransaction) -> None:
        """A SUBSCRIBE, new or a refresh (To tag set) — or an unsubscribe (Expires: 0)."""
        if msg.get("Event").split(";", 1)[0].strip().lower() != EVENT:
            bad = response(msg, 489)
            bad.add("Allow-Events", EVENT)
            tx.respond(bad)
            return
        user = self.digest.user(msg)
        member = self.port.member(user) if user else None
        if user is None or member is None:
            tx.respond(self.digest.challenge(msg))
            return
        header = msg.get("Expires")
        expires = min(int(header), MAX_EXPIRES) if header.isdigit() else MAX_EXPIRES
        found = self.subscriptions.get((msg.call_id, msg.to_tag)) if msg.to_tag else None
        if msg.to_tag and found is None:
            tx.respond(response(msg, 481))
            return
        if found is None:
            dialog = inbound(msg, tx.source)
            found = Subscription(dialog, user, member.id, 0.0)
            self.subscriptions[dialog.key] = found
        found.dialog.remote_cseq = msg.cseq[0]
        found.expires = time.monotonic() + expires
        ok = response(msg, 200, to_tag=found.dialog.local_tag)
        ok.add("Expires", str(expires))
        ok.add("Contact", f"<sip:backline@{self.stack.host}:{self.stack.port}>")
        tx.respond(ok)
        found.sent = None
        await self._notify(found, ended=expires == 0)

    async def changed(self) -> None:
        """Counts may have changed: NOTIFY every subscription whose counts did."""
        async with self._lock:
            now = time.monotonic()
            for found in list(self.subscriptions.values()):
                if found.expires < now:
                    await self._notify(found, ended=True)
                elif self.port.voice().counts(found.mailbox) != found.sent:
                    await self._notify(found, ended=False)

    async def _notify(self, found: Subscription, *, ended: bool) -> None:
        new, old = self.port.voice().counts(found.mailbox)
        found.sent = (new, old)
        left = max(0, int(found.expires - time.monotonic()))
        state = "terminated;reason=timeout" if ended else f"active;expires={left}"
        account = f"sip:{found.handle}@{self.stack.host}"
        notify = found.dialog.request(
            self.stack, "NOTIFY", summary(account, new, old), Event=EVENT, Subscription_State=state
        )
        notify.set("Content-Type", "application/simple-message-summary")
        if ended:
            self.subscriptions.pop(found.dialog.key, None)
        await self.stack.request(notify, found.dialog.peer)
