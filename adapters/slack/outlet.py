"""Sending to Slack: each message into the right lane and thread, cards kept up to date.

Every call goes through the ``Pacer`` (per-lane order, ~1 message/s, 429/5xx retries).
A card's view is read through the port when the job is queued (after the commit), so a
card never shows uncommitted state; unchanged cards are not re-sent, and a card that shows
its interaction closed is forgotten. Every text is escaped and bounded (``convert``,
``cards``); should Slack still refuse a card or a Home tab (``invalid_blocks``), a minimal
one goes instead, so the interaction keeps its thread and the tab keeps updating.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.cards import card_blocks, card_text, home_blocks, minimal_card, minimal_home
from adapters.slack.convert import message_args
from adapters.slack.failures import Failures, Job, ResponseUrlFailed, Work, error_code
from adapters.slack.limits import MESSAGE_TEXT, clip
from adapters.slack.mrkdwn import to_slack
from adapters.slack.pacing import Pacer
from adapters.slack.recent import Recent
from adapters.slack.threads import Card, Threads, desk, group, lane_members
from bot.port import Batch, InteractionView, Outgoing, Port, Posted, Relay, Say, relaying, unmarked

log = logging.getLogger("backline.slack")
MAX_RESPONSE_URL_REPLIES = 5
T = TypeVar("T")
# [(lane, interaction, text)] of a message typed in a shared thread: both members see it
# already. A list, emptied when its command is done (timers copy the context it was in).
TYPED_IN: ContextVar[list[tuple[str, str, str]] | None] = ContextVar("typed_in", default=None)


class Outlet:
    """The Slack side of delivery: reaches members with a Slack user id."""

    def __init__(
        self, port: Port, client: AsyncWebClient, threads: Threads, pace_seconds: float
    ) -> None:
        self.port = port
        self.client = client
        self.threads = threads
        self.failures = Failures(self)
        self.pacer = Pacer(pace_seconds, self.failures.failed)
        self._expected: dict[str, set[str]] = {}  # interaction → lanes whose card is queued
        self._response_urls = Recent()  # a response_url takes at most 5 replies in 30 min
        self.posted = Posted()  # replies by original, so corrections edit them (ADP-6)

    def user(self, member_id: str) -> str | None:
        """The member's Slack user id."""
        return self.port.handle_of(member_id)

    async def send(self, batch: Batch) -> None:
        """Queue one commit's messages and card updates (returns at once; the pacer sends)."""
        noticed: set[str] = set()
        for message in batch.messages:
            self._queue(message)
            if message.say.notice:
                noticed.add(message.to[1:])
        self.refresh(batch.touched)
        for member in sorted(noticed):
            self.publish_home(member)

    def _queue(self, message: Outgoing) -> None:
        member, say = message.to[1:], message.say
        iid = message.interaction
        view = self.port.interaction_view(iid, member) if iid else None
        if view is None:
            self.submit(desk(member), self.post_top(member, say), say.text)
            return
        lane = self.lane_for(member, view)
        for typed in TYPED_IN.get() or []:
            if typed[:2] == (lane, view.iid) and say.text.endswith(typed[2]):
                say = Say(say.to, "", say.interaction)
        relay = relaying() if not say.notice else None
        work = self._post_in_thread(lane, self._shown(lane, view), member, say, relay)
        self.submit(lane, work, say.text)

    # -- lanes, cards, homes ---------------------------------------------------------

    def lane_for(self, member: str, view: InteractionView) -> str:
        """A consultation between two Slack members is their group DM; the rest, the desk."""
        known = self.threads.lane_of(member, view.iid)
        if known is not None:
            return known
        if view.kind == "consultation":
            pair = [m for m in view.handlers if self.user(m)]
            if member in pair and len(pair) == 2:
                return group(pair)
        return desk(member)

    def _shown(self, lane: str, view: InteractionView) -> InteractionView:
        """What the card in ``lane`` shows: a member's own view, or a group DM's shared one."""
        if not lane.startswith("mpim:"):
            return view
        return self.port.interaction_view(view.iid, None) or view

    def _view_in(self, lane: str, iid: str) -> InteractionView | None:
        viewer = None if lane.startswith("mpim:") else lane_members(lane)[0]
        return self.port.interaction_view(iid, viewer)

    def refresh(self, iids: frozenset[str]) -> None:
        """Queue card updates for every card of these interactions (skipped if unchanged)."""
        for iid in sorted(iids):
            lanes = {c.lane for c in self.threads.cards_of(iid)} | self._expected.get(iid, set())
            for lane in sorted(lanes):
                view = self._view_in(lane, iid)
                if view is not None:
                    self.submit(lane, partial(self._update, lane, view), "card")

    def show_cards(self, member: str, iids: frozenset[str]) -> None:
        """Post the member's card of each of these interactions they take part in, if missing."""
        for iid in sorted(iids):
            view = self.port.interaction_view(iid, member)
            if view is None or not view.live or view.role is None:
                continue
            lane = self.lane_for(member, view)
            if self.threads.card(lane, iid) or lane in self._expected.get(iid, set()):
                continue
            self._expected.setdefault(iid, set()).add(lane)
            self.submit(lane, partial(self._show, lane, self._shown(lane, view)), "card")

    async def _show(self, lane: str, view: InteractionView) -> None:
        await self.card(lane, view)
        await self._update(lane, view)

    def publish_home(self, member: str) -> None:
        """Queue the member's App Home view as it is now."""
        user = self.user(member)
        if user is None:
            return
        home = self.port.home_view(member)
        view = home_blocks(home, self.user)

        async def publish() -> None:
            async def send(shown: dict[str, Any]) -> object:
                return await self.client.views_publish(user_id=user, view=shown)

            await refused_blocks(send, view, minimal_home(home))

        self.submit(f"home:{member}", publish, "App Home")

    async def channel(self, lane: str) -> str:
        """The lane's channel, opening the DM or group DM the first time."""
        known = self.threads.channels.get(lane)
        if known:
            return known
        users = [u for m in lane_members(lane) if (u := self.user(m))]
        response = await self.client.conversations_open(users=",".join(users))
        channel = str(response["channel"]["id"])
        await self.threads.set_channel(lane, channel)
        return channel

    async def card(self, lane: str, view: InteractionView) -> Card | None:
        """The interaction's card in this lane, posted the first time while it is live."""
        card = self.threads.card(lane, view.iid)
        if card is None and view.live:
            channel = await self.channel(lane)
            blocks = card_blocks(view, self.user)

            async def post(shown: list[dict[str, Any]]) -> Any:
                return await self.client.chat_postMessage(
                    channel=channel, text=card_text(view), blocks=shown
                )

            posted = await refused_blocks(post, blocks, minimal_card(view))
            card = Card(lane, view.iid, channel, str(posted["ts"]), _digest(blocks))
            await self.threads.save(card)
        lanes = self._expected.get(view.iid, set())
        lanes.discard(lane)
        if not lanes:
            self._expected.pop(view.iid, None)
        return card

    async def _update(self, lane: str, view: InteractionView) -> None:
        card = self.threads.card(lane, view.iid)
        if card is None:
            return
        blocks = card_blocks(view, self.user)
        if _digest(blocks) != card.digest:

            async def edit(shown: list[dict[str, Any]]) -> object:
                return await self.client.chat_update(
                    channel=card.channel, ts=card.ts, text=card_text(view), blocks=shown
                )

            await refused_blocks(edit, blocks, minimal_card(view))
            card.digest = _digest(blocks)
            if view.live:
                await self.threads.save(card)
        if not view.live:  # it shows the interaction closed: nothing will change it again
            await self.threads.prune(card)

    # -- posting ---------------------------------------------------------------------

    def submit(self, lane: str, work: Work, note: str) -> None:
        """Queue ``work`` in ``lane``; ``note`` says what it carries, for a failure report."""
        self.pacer.submit(lane, Job(work, note))

    def post_top(self, member: str, message: Say) -> Work:
        """Work that posts ``message`` at the top of the member's desk."""

        async def post() -> None:
            channel = await self.channel(desk(member))
            for args in message_args(channel, message, self.user):
                await self.client.chat_postMessage(**args)

        return post

    def _post_in_thread(
        self,
        lane: str,
        view: InteractionView,
        member: str,
        message: Say,
        relay: Relay | None = None,
    ) -> Work:
        """Post in the card's thread; a correction edits the reply posted for its original."""
        if view.live:
            self._expected.setdefault(view.iid, set()).add(lane)
        shared = lane.startswith("mpim:")
        user = self.user(member)

        async def post() -> None:
            card = await self.card(lane, view)
            if message.text:
                prefix = f"<@{user}> " if shared and user else ""
                channel = card.channel if card else await self.channel(lane)
                thread = card.ts if card else None
                original = self.posted.edits(relay, lane, message.text)
                if original is not None:
                    fixed = replace(message, text=unmarked(message.text))
                    args = message_args(channel, fixed, self.user, thread, prefix)[0]
                    await self.client.chat_update(channel=channel, ts=original, text=args["text"])
                else:
                    for args in message_args(channel, message, self.user, thread, prefix):
                        posted = await self.client.chat_postMessage(**args)
                        self.posted.remember(relay, lane, str(posted["ts"]))
            await self._update(lane, view)

        return post

    def reply_in_thread(self, member: str, iid: str, text: str) -> None:
        """A command's reply in the member's thread of ``iid`` (ephemeral in a shared one)."""
        view = self.port.interaction_view(iid, member)
        if view is None:
            self.reply_top(member, text)
            return
        lane = self.lane_for(member, view)
        shown = self._shown(lane, view)
        if not lane.startswith("mpim:"):
            work = self._post_in_thread(lane, shown, member, Say(f"@{member}", text, iid))
            self.submit(lane, work, text)
            return
        user = self.user(member)

        async def whisper() -> None:
            card = await self.card(lane, shown)
            channel = card.channel if card else await self.channel(lane)
            await self.client.chat_postEphemeral(
                channel=channel,
                user=user or "",
                text=clip(to_slack(text, self.user), MESSAGE_TEXT),
                thread_ts=card.ts if card else None,
            )

        self.submit(lane, whisper, text)

    def reply_top(self, member: str, text: str) -> None:
        """A command's reply at the top of the member's desk."""
        self.submit(desk(member), self.post_top(member, Say(f"@{member}", text)), text)

    def reply_via(self, url: str, member: str, text: str) -> None:
        """A slash command's reply through its ``response_url`` (at most 5 per URL)."""
        if self._response_urls.seen(url) >= MAX_RESPONSE_URL_REPLIES:
            self.reply_top(member, text)
            return
        self._response_urls.count(url)

        async def post() -> None:
            shown = clip(to_slack(text, self.user), MESSAGE_TEXT)
            response = await AsyncWebhookClient(url, session=self.client.session).send_dict(
                {"response_type": "ephemeral", "text": shown}
            )
            if response.status_code != 200:
                raise ResponseUrlFailed(f"response_url answered {response.status_code}")

        self.submit(f"response:{member}", post, text)

    def reply_stranger(self, user: str, channel: str, text: str) -> None:
        """A reply to a Slack user who is not in the directory, in the channel they wrote in."""

        async def post() -> None:
            for args in message_args(channel, Say(f"@{user}", text), self.user):
                await self.client.chat_postMessage(**args)

        self.submit(f"user:{user}", post, text)


async def refused_blocks(send: Callable[[T], Awaitable[Any]], full: T, minimal: T) -> Any:
    """``send(full)``; if Slack refuses its blocks (``invalid_blocks``), ``send(minimal)``."""
    try:
        return await send(full)
    except SlackApiError as exc:
        if error_code(exc) not in ("invalid_blocks", "invalid_blocks_format"):
            raise
        log.error("slack refused blocks (%s); sent a minimal version instead", error_code(exc))
        return await send(minimal)


def _digest(blocks: list[dict[str, object]]) -> str:
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()[:16]
