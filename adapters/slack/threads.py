"""Where things live in Slack: each lane's channel and each interaction card's thread.

Kept in the adapter's own tables (``migrations.py``) of backline's SQLite file, so a restart
finds the same threads; a card is forgotten once it shows its interaction closed, so the
tables hold only what is live. A *lane* is a conversation backline posts in: ``dm:alice``
(alice's desk) or ``mpim:alice+bob`` (the group DM of a consultation). Writes go through the
port's store, between commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.port import AdapterStore


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
    """In-memory index of the bookkeeping tables; every change is written through."""

    def __init__(self, store: AdapterStore) -> None:
        self.store = store
        self.channels: dict[str, str] = {}
        self._cards: dict[str, dict[str, Card]] = {}  # interaction → lane → card
        self._threads: dict[tuple[str, str], Card] = {}  # (channel, ts) → card

    def open(self) -> None:
        """Read the tables (on start; the migrations created them)."""
        self.channels = {
            str(lane): str(channel)
            for lane, channel in self.store.rows("SELECT lane, channel FROM slack_channels")
        }
        self._cards, self._threads = {}, {}
        rows = self.store.rows("SELECT lane, interaction_id, channel, ts, digest FROM slack_cards")
        for lane, iid, channel, ts, digest in rows:
            self._index(Card(lane, iid, channel, ts, digest))

    def _index(self, card: Card) -> None:
        self._cards.setdefault(card.iid, {})[card.lane] = card
        self._threads[(card.channel, card.ts)] = card

    def _unindex(self, card: Card) -> None:
        lanes = self._cards.get(card.iid, {})
        lanes.pop(card.lane, None)
        if not lanes:
            self._cards.pop(card.iid, None)
        self._threads.pop((card.channel, card.ts), None)

    def card(self, lane: str, iid: str) -> Card | None:
        """The card of ``iid`` in ``lane``, if posted."""
        return self._cards.get(iid, {}).get(lane)

    def card_at(self, channel: str, ts: str) -> Card | None:
        """The card whose thread is ``ts`` in ``channel``."""
        return self._threads.get((channel, ts))

    def cards_of(self, iid: str) -> list[Card]:
        """Every card of one interaction (one per lane it is shown in)."""
        return list(self._cards.get(iid, {}).values())

    def lane_of(self, member_id: str, iid: str) -> str | None:
        """The lane that already shows ``iid`` to ``member_id``, if any."""
        for card in self.cards_of(iid):
            if member_id in lane_members(card.lane):
                return card.lane
        return None

    async def set_channel(self, lane: str, channel: str) -> None:
        """Remember a lane's channel."""
        self.channels[lane] = channel
        await self.store.write(
            ("INSERT OR REPLACE INTO slack_channels (lane, channel) VALUES (?, ?)", (lane, channel))
        )

    async def forget_lane(self, lane: str) -> None:
        """The lane's channel is gone (``not_in_channel``): reopen it and repost its cards."""
        self.channels.pop(lane, None)
        for lanes in list(self._cards.values()):
            if lane in lanes:
                self._unindex(lanes[lane])
        await self.store.write(
            ("DELETE FROM slack_channels WHERE lane = ?", (lane,)),
            ("DELETE FROM slack_cards WHERE lane = ?", (lane,)),
        )

    async def save(self, card: Card) -> None:
        """Remember a card and what it last showed."""
        old = self.card(card.lane, card.iid)
        if old is not None:
            self._unindex(old)
        self._index(card)
        await self.store.write(
            (
                "INSERT OR REPLACE INTO slack_cards (lane, interaction_id, channel, ts, digest)"
                " VALUES (?, ?, ?, ?, ?)",
                (card.lane, card.iid, card.channel, card.ts, card.digest),
            )
        )

    async def prune(self, card: Card) -> None:
        """Forget a card that shows its interaction closed: nothing will change it again."""
        self._unindex(card)
        await self.store.write(
            (
                "DELETE FROM slack_cards WHERE lane = ? AND interaction_id = ?",
                (card.lane, card.iid),
            )
        )
