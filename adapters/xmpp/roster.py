"""The component's roster (ADP-4): kept in ``xmpp_roster``, so subscriptions survive logins.

slixmpp's own component roster forgets between sessions and answers a probe it has no record
of with ``unsubscribed``, which revokes a member's subscription on every login after the
first. This one is durable and is the only one answering.
"""

from __future__ import annotations

from bot.port import AdapterStore


class Roster:
    """``(our JID, their bare JID) -> (they see us, we see them)``, written through."""

    def __init__(self, store: AdapterStore) -> None:
        self.store = store
        self.items: dict[tuple[str, str], tuple[bool, bool]] = {}

    def open(self) -> None:
        """Read the table (on start)."""
        rows = self.store.rows("SELECT ours, jid, sub_from, sub_to FROM xmpp_roster")
        self.items = {(str(o), str(j)): (bool(f), bool(t)) for o, j, f, t in rows}

    def sees_us(self, ours: str, jid: str) -> bool:
        """Whether ``jid`` is subscribed to our JID ``ours``."""
        return self.items.get((ours, jid), (False, False))[0]

    def we_see(self, ours: str, jid: str) -> bool:
        """Whether our JID ``ours`` is subscribed to ``jid``."""
        return self.items.get((ours, jid), (False, False))[1]

    async def set(
        self, ours: str, jid: str, *, sees_us: bool | None = None, we_see: bool | None = None
    ) -> None:
        """Change one side of a subscription (unchanged sides are kept)."""
        old = self.items.get((ours, jid), (False, False))
        new = (old[0] if sees_us is None else sees_us, old[1] if we_see is None else we_see)
        if new == old and (ours, jid) in self.items:
            return
        self.items[(ours, jid)] = new
        await self.store.write(
            (
                "INSERT OR REPLACE INTO xmpp_roster (ours, jid, sub_from, sub_to)"
                " VALUES (?, ?, ?, ?)",
                (ours, jid, int(new[0]), int(new[1])),
            )
        )
