"""Messages held for members who are offline (ADP-4): durable, delivered in order on return.

Each held stanza is a row of ``xmpp_held``, written before the member is told elsewhere, so
a restart of backline delivers them too. An in-memory count per member answers "is anything
held for her?" without a query.
"""

from __future__ import annotations

from adapters.xmpp.convert import StanzaOut
from bot.port import AdapterStore

PER_MEMBER = 1000  # held messages kept per member at most; the oldest go first


class Held:
    """The ``xmpp_held`` table, with a count per member."""

    def __init__(self, store: AdapterStore) -> None:
        self.store = store
        self.counts: dict[str, int] = {}

    def open(self) -> None:
        """Read the counts (on start)."""
        rows = self.store.rows("SELECT jid, count(*) FROM xmpp_held GROUP BY jid")
        self.counts = {str(jid): int(n) for jid, n in rows}

    def waiting(self, jid: str) -> int:
        """How many messages are held for ``jid``."""
        return self.counts.get(jid, 0)

    async def hold(self, out: StanzaOut) -> None:
        """Keep one stanza for its recipient, behind what is already held."""
        jid = out.to
        await self.store.write(
            (
                "INSERT INTO xmpp_held (jid, frm, type, body, subject) VALUES (?, ?, ?, ?, ?)",
                (jid, out.frm, out.type, out.body, out.subject),
            ),
            (
                "DELETE FROM xmpp_held WHERE jid = ? AND seq NOT IN"
                " (SELECT seq FROM xmpp_held WHERE jid = ? ORDER BY seq DESC LIMIT ?)",
                (jid, jid, PER_MEMBER),
            ),
        )
        self.counts[jid] = min(PER_MEMBER, self.counts.get(jid, 0) + 1)

    def peek(self, jid: str) -> list[tuple[int, StanzaOut]]:
        """What is held for ``jid``, oldest first, with each row's number."""
        rows = self.store.rows(
            "SELECT seq, frm, type, body, subject FROM xmpp_held WHERE jid = ? ORDER BY seq", (jid,)
        )
        return [
            (int(seq), StanzaOut(jid, frm, kind, body, subject))
            for seq, frm, kind, body, subject in rows
        ]

    async def done(self, jid: str, upto: int) -> None:
        """Forget what was delivered: every row of ``jid`` up to ``upto``."""
        await self.store.write(("DELETE FROM xmpp_held WHERE jid = ? AND seq <= ?", (jid, upto)))
        left = self.store.rows("SELECT count(*) FROM xmpp_held WHERE jid = ?", (jid,))
        self.counts[jid] = int(left[0][0])
        if not self.counts[jid]:
            del self.counts[jid]
