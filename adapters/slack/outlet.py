"""Sending to Slack: each ``Say`` into the right lane and thread, cards kept up to date.

Every call goes through the ``Pacer`` (per-lane order, ~1 message/s, 429/5xx retries).
A card's view is read from the core when the job is queued (after the commit), so a
card never shows uncommitted state; unchanged cards are not re-sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.cards import CardView, card_blocks, card_text, home_blocks
from adapters.slack.convert import PLATFORM, message_args
from adapters.slack.desk import card_view, find, home_view
from adapters.slack.pacing import Pacer
from adapters.slack.threads import Card, Threads, desk, group, lane_members
from bot.core import Core
from bot.dispatch.pipeline import new_ref
from bot.interaction.model import HANDLERS, Interaction
from bot.outbound import Say

log = logging.getLogger("backline.slack")
RECOVERABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "thread_not_found"})
MAX_RESPONSE_URL_REPLIES = 5
# (lane, interaction, text) of a message typed in a shared thread: both members already see it.
TYPED_IN: ContextVar[tuple[str, str, str] | None] = ContextVar("typed_in", default=None)


@dataclass
class Job:
    """One paced unit of work; ``note`` says what it carried, for a failure report."""

    work: Callable[[], Awaitable[None]]
    note: str
    retried: bool = False
    reported: bool = False

    async def __call__(self) -> None:
        """Run the work."""
        await self.work()


@dataclass
class Outlet:
    """The Slack side of ``Delivery``: reaches members with a Slack identity."""

    core: Core
    client: AsyncWebClient
    threads: Threads
    pace_seconds: float
    name: str = PLATFORM
    undelivered: list[str] = field(default_factory=list)
    _expected: set[tuple[str, str]] = field(default_factory=set)
    _response_urls: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.pace_seconds, self._failed)

    # -- the Outlet protocol ---------------------------------------------------------

    def user(self, member_id: str) -> str | None:
        """The member's Slack user id."""
        return self.core.directory.identities.handles(member_id).get(PLATFORM)

    def reaches(self, recipient: str) -> bool:
        """Members linked to a Slack user id."""
        return recipient.startswith("@") and self.user(recipient[1:]) is not None

    async def send(self, message: Say) -> None:
        """Queue one delivery (returns at once; the pacer sends it)."""
        touched = set(self.core.engine.touched)
        member = message.to[1:]
        ix = find(self.core, message.interaction) if message.interaction else None
        if ix is None:
            self._submit(desk(member), self._post_top(member, message), message.text)
        else:
            lane = self.lane_for(member, ix)
            view = self._view(lane, ix, member)
            typed = TYPED_IN.get()
            echo = typed is not None and typed[:2] == (lane, ix.id)
            if echo and typed is not None and message.text.endswith(typed[2]):
                message = Say(message.to, "", message.interaction)
            self._submit(lane, self._post_in_thread(lane, view, member, message), message.text)
        self.refresh(touched)
        if message.notice:
            self.publish_home(member)

    # -- lanes, cards, homes ---------------------------------------------------------

    def lane_for(self, member: str, ix: Interaction) -> str:
        """A consultation between two Slack members is their group DM; the rest, the desk."""
        known = self.threads.lane_of(member, ix.id)
        if known is not None:
            return known
        if ix.kind == "consultation":
            pair = [m for m in self._consultants(ix) if self.user(m)]
            if member in pair and len(pair) == 2:
                return group(pair)
        return desk(member)

    def _consultants(self, ix: Interaction) -> list[str]:
        ids = [ix.initiator] if ix.initiator else []
        ids += list(ix.offer.to) if ix.offer else []
        ids += [p.member_id for p in ix.parties.values() if p.member_id and p.role in HANDLERS]
        return [m for m in dict.fromkeys(ids) if m]

    def _view(self, lane: str, ix: Interaction, member: str) -> CardView:
        viewer = None if lane.startswith("mpim:") else member
        return card_view(self.core, ix, viewer)

    def refresh(self, iids: set[str]) -> None:
        """Queue card updates for every card of these interactions (skipped if unchanged)."""
        for lane, iid in sorted({*self.threads.cards, *self._expected}):
            if iid not in iids:
                continue
            ix = find(self.core, iid)
            if ix is not None:
                view = self._view(lane, ix, lane_members(lane)[0])
                self._submit(lane, partial(self._update, lane, view), "card")

    def show_cards(self, member: str, iids: set[str]) -> None:
        """Post the member's card of each of these interactions they take part in, if missing."""
        for iid in sorted(iids):
            ix = find(self.core, iid)
            if ix is None or not ix.live or ix.party(f"@{member}") is None:
                continue
            lane = self.lane_for(member, ix)
            if (lane, iid) in self.threads.cards or (lane, iid) in self._expected:
                continue
            self._expected.add((lane, iid))
            view = self._view(lane, ix, member)
            self._submit(lane, partial(self._show, lane, view), "card")

    async def _show(self, lane: str, view: CardView) -> None:
        await self.card(lane, view)
        await self._update(lane, view)

    def publish_home(self, member: str) -> None:
        """Queue the member's App Home view as it is now."""
        user = self.user(member)
        if user is None:
            return
        view = home_blocks(home_view(self.core, member))

        async def publish() -> None:
            await self.client.views_publish(user_id=user, view=view)

        self._submit(f"home:{member}", publish, "App Home")

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

    async def card(self, lane: str, view: CardView) -> Card:
        """The interaction's card in this lane, posting it the first time."""
        card = self.threads.cards.get((lane, view.iid))
        if card is not None:
            return card
        channel = await self.channel(lane)
        blocks = card_blocks(view)
        posted = await self.client.chat_postMessage(
            channel=channel, text=card_text(view), blocks=blocks
        )
        card = Card(lane, view.iid, channel, str(posted["ts"]), _digest(blocks))
        await self.threads.save(card)
        return card

    async def _update(self, lane: str, view: CardView) -> None:
        card = self.threads.cards.get((lane, view.iid))
        if card is None:
            return
        blocks = card_blocks(view)
        if _digest(blocks) == card.digest:
            return
        await self.client.chat_update(
            channel=card.channel, ts=card.ts, text=card_text(view), blocks=blocks
        )
        card.digest = _digest(blocks)
        await self.threads.save(card)

    # -- posting ---------------------------------------------------------------------

    def _submit(self, lane: str, work: Callable[[], Awaitable[None]], note: str) -> None:
        self.pacer.submit(lane, Job(work, note))

    def _post_top(self, member: str, message: Say) -> Callable[[], Awaitable[None]]:
        async def post() -> None:
            channel = await self.channel(desk(member))
            await self.client.chat_postMessage(**message_args(channel, message))

        return post

    def _post_in_thread(
        self, lane: str, view: CardView, member: str, message: Say
    ) -> Callable[[], Awaitable[None]]:
        self._expected.add((lane, view.iid))
        shared = lane.startswith("mpim:")
        user = self.user(member)

        async def post() -> None:
            card = await self.card(lane, view)
            if message.text:
                text = f"<@{user}> {message.text}" if shared else message.text
                args = message_args(card.channel, Say(message.to, text, priority=message.priority))
                await self.client.chat_postMessage(**args, thread_ts=card.ts)
            await self._update(lane, view)

        return post

    def reply_in_thread(self, member: str, iid: str, text: str) -> None:
        """A command's reply in the member's thread of ``iid`` (ephemeral in a shared one)."""
        ix = find(self.core, iid)
        if ix is None:
            self.reply_top(member, text)
            return
        lane = self.lane_for(member, ix)
        if not lane.startswith("mpim:"):
            self._submit(
                lane,
                self._post_in_thread(
                    lane, self._view(lane, ix, member), member, Say(f"@{member}", text, iid)
                ),
                text,
            )
            return
        view, user = self._view(lane, ix, member), self.user(member)

        async def whisper() -> None:
            card = await self.card(lane, view)
            await self.client.chat_postEphemeral(
                channel=card.channel, user=user or "", text=text, thread_ts=card.ts
            )

        self._submit(lane, whisper, text)

    def reply_top(self, member: str, text: str) -> None:
        """A command's reply at the top of the member's desk."""
        self._submit(desk(member), self._post_top(member, Say(f"@{member}", text)), text)

    def reply_via(self, url: str, member: str, text: str) -> None:
        """A slash command's reply through its ``response_url`` (at most 5 per URL)."""
        used = self._response_urls.get(url, 0)
        if used >= MAX_RESPONSE_URL_REPLIES:
            self.reply_top(member, text)
            return
        self._response_urls[url] = used + 1

        async def post() -> None:
            response = await AsyncWebhookClient(url).send_dict(
                {"response_type": "ephemeral", "text": text}
            )
            if response.status_code != 200:
                raise ResponseUrlFailed(f"response_url answered {response.status_code}")

        self._submit(f"response:{member}", post, text)

    # -- failures --------------------------------------------------------------------

    async def _failed(self, lane: str, job: Any, exc: Exception) -> None:
        assert isinstance(job, Job)
        error = _error_code(exc)
        if error in RECOVERABLE and not job.retried and lane.startswith(("dm:", "mpim:")):
            log.warning("slack lane %s: %s; reopening the conversation", lane, error)
            await self.threads.forget_lane(lane)
            job.retried = True
            self.pacer.submit(lane, job)
            return
        ref = new_ref()
        reason = error or str(exc)
        log.error("slack delivery failed ref=%s lane=%s: %s", ref, lane, reason)
        if lane.startswith("response:"):  # the response_url expired: say it on the desk
            self.reply_top(lane.split(":", 1)[1], job.note)
            return
        if job.reported or lane.startswith("home:"):
            self.undelivered.append(job.note)
            return
        members = lane_members(lane)
        for member in members:
            text = (
                f":warning: Slack refused a message for you ({reason}, ref {ref}); "
                f"here it is: {job.note}"
            )
            report = Job(self._post_top(member, Say(f"@{member}", text)), text, reported=True)
            self.pacer.submit(desk(member), report)


def _error_code(exc: Exception) -> str | None:
    """Slack's ``error`` field (``not_in_channel``…), when the answer had one."""
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        code = exc.response.data.get("error")
        return str(code) if code else None
    return None


def _digest(blocks: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()[:16]


class ResponseUrlFailed(Exception):
    """Slack refused a ``response_url`` reply (expired, or used too often)."""
