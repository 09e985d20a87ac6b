"""Where things live in Slack: each lane's channel and each interaction card's thread.

Kept in adapter-owned tables of backline's SQLite file, so a restart finds the same threads.
A *lane* is a conversation backline posts in: ``dm:alice`` (alice's desk) or
``mpim:alice+bob`` (the group DM of a consultation). Writes take the store lock, so they
never land inside a command's open transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage import Store

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS slack_channels (lane TEXT PRIMARY KEY, channel TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS slack_cards (
        lane TEXT NOT NULL, interaction_id TEXT NOT NULL, channel TEXT NOT NULL,
        ts TEXT NOT NULL, digest TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (lane, interaction_id)
    )""",
)


@dataclass
class Card:
    """One interaction card: the parent message of that interaction's thread in a lane."""

    lane: str
    iid: str
    channel: str
    ts: str
    digest: str = ""


def desk(member_id: str) -> str:
    """The lane of a member's DM with the bot."""
    return f"dm:{member_id}"


def group(member_ids: list[str]) -> str:
    """The lane of a group DM of these members and the bot."""
    return "mpim:" + "+".join(sorted(member_ids))


def lane_members(lane: str) -> list[str]:
    """The member ids a lane is shared by."""
    return lane.split(":", 1)[1].split("+")


class Threads:
    """In-memory view of the bookkeeping tables; every change is written through."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.channels: dict[str, str] = {}
        self.cards: dict[tuple[str, str], Card] = {}

    def open(self) -> None:
        """Create the tables if needed and read them (on start; nothing else runs yet)."""
        with self.store.transaction():
            for statement in SCHEMA:
                self.store.conn.execute(statement)
        self.channels = dict(
            self.store.conn.execute("SELECT lane, channel FROM slack_channels").fetchall()
        )
        self.cards = {
            (lane, iid): Card(lane, iid, channel, ts, digest)
            for lane, iid, channel, ts, digest in self.store.conn.execute(
                "SELECT lane, interaction_id, channel, ts, digest FROM slack_cards"
            )
        }

    def card_at(self, channel: str, ts: str) -> Card | None:
        """The card whose thread is ``ts`` in ``channel``."""
        return next((c for c in self.cards.values() if c.channel == channel and c.ts == ts), None)

    def cards_of(self, iid: str) -> list[Card]:
        """Every card of one interaction (one per lane it is shown in)."""
        return [c for c in self.cards.values() if c.iid == iid]

    def lane_of(self, member_id: str, iid: str) -> str | None:
        """The lane that already shows ``iid`` to ``member_id``, if any."""
        for card in self.cards_of(iid):
            if member_id in lane_members(card.lane):
                return card.lane
        return None

    async def set_channel(self, lane: str, channel: str) -> None:
        """Remember a lane's channel."""
        self.channels[lane] = channel
        await self._write(
            "INSERT OR REPLACE INTO slack_channels (lane, channel) VALUES (?, ?)", (lane, channel)
        )

    async def forget_lane(self, lane: str) -> None:
        """The lane's channel is gone (``not_in_channel``): reopen it and repost its cards."""
        self.channels.pop(lane, None)
        for key in [k for k in self.cards if k[0] == lane]:
            del self.cards[key]
        await self._write("DELETE FROM slack_channels WHERE lane = ?", (lane,))
        await self._write("DELETE FROM slack_cards WHERE lane = ?", (lane,))

    async def save(self, card: Card) -> None:
        """Remember a card and what it last showed."""
        self.cards[(card.lane, card.iid)] = card
        await self._write(
            "INSERT OR REPLACE INTO slack_cards (lane, interaction_id, channel, ts, digest)"
            " VALUES (?, ?, ?, ?, ?)",
            (card.lane, card.iid, card.channel, card.ts, card.digest),
        )

    async def _write(self, sql: str, params: tuple[str, ...]) -> None:
        async with self.store.lock:
            with self.store.transaction():
                self.store.conn.execute(sql, params)
