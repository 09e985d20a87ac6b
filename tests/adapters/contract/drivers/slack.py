"""The Slack contract driver: the Slack adapter in HTTP mode, driven by signed requests.

backline serves the Slack plugin on a local aiohttp server against the local Web API stub;
alice and bob are linked to Slack user ids. A member's command is a `/bl` slash command (its
reply comes through the response_url); text in an interaction is a reply in the thread of
that interaction's card, wherever the member sees it (their DM, or a consultation's group
DM). What a member received is what Slack shows them: the bot's messages in their channels,
what others wrote in a group DM they share, ephemeral messages and slash-command replies.
Slack has no customers: they, and chen, are on a console adapter attached to the same core.
The core runs on a fake clock, so no offer times out mid-test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.state import snapshot
from tests.adapters.slack.check import render
from tests.adapters.slack.driver import USERS, SlackDriver, desk
from tests.adapters.slack.stub import Posted, SlackStub

POLL = 0.01


class SlackContractDriver:
    """backline with the Slack adapter and a console; Slack's users act through signed posts."""

    platform = "slack"
    customer_platform = "console"

    def __init__(self, database: Path) -> None:
        self.database = database
        self.stub = SlackStub()
        self.slack: SlackDriver | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start the Web API stub, then backline with the Slack adapter on a fresh database."""
        await self.stub.start()
        self.slack = SlackDriver(self.database, self.stub)
        await self.slack.start()

    async def stop(self) -> None:
        """Stop backline, then the stub."""
        if self.slack is not None:
            await self.slack.stop()
            self.slack = None
        await self.stub.stop()

    async def restart(self) -> None:
        """backline dies (nothing flushed) and starts again on the same database."""
        await self._slack.restart()

    # -- members ---------------------------------------------------------------------

    async def member_types(self, member: str, text: str, *, interaction: str | None = None) -> None:
        """`/bl TEXT`; with ``interaction``, a reply in the thread of its card."""
        slack = self._slack
        if interaction is None:
            await slack.slash(member, text)
            return
        card = await self._card(member, interaction)
        ts = self.stub.user_message(USERS[member], card.channel, text, card.ts)
        event = slack.message_event(member, card.channel, text, card.ts)
        event["event"].update(ts=ts, event_ts=ts)
        status, _ = await slack.post_event(event)
        assert status == 200, f"Slack got {status} for {member}'s message"
        await slack.settle()

    async def member_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What Slack showed ``member``, once one text contains ``expect``."""
        return await _wait(f"@{member} on Slack", lambda: self._seen_by(member), expect, timeout)

    async def member_presence(self, member: str, available: bool) -> None:
        """The member picks Ready or Not ready in the presence selector of their App Home."""
        status = await self._slack.choose_presence(member, "Ready" if available else "Not ready")
        assert status == 200

    async def console_types(self, member: str, text: str) -> None:
        """A console member types a command."""
        await self._slack.customers.adapter.type(member, text)
        await self._slack.settle()

    async def console_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What the console showed ``@member``."""
        console = self._slack.customers
        return await _wait(f"@{member}", lambda: console.received(f"@{member}"), expect, timeout)

    # -- customers -------------------------------------------------------------------

    async def customer_writes(self, customer: str, text: str, *, target: str = "") -> None:
        """A console customer opens a chat to ``target`` the first time, then writes in it."""
        if target:
            await self._slack.customer_arrives(customer, target, text)
        else:
            await self._slack.customer_says(customer, text)

    async def customer_leaves(self, customer: str) -> None:
        """The console customer hangs up."""
        await self._slack.customers.simulate("hangup", customer)
        await self._slack.settle()

    async def customer_received(
        self, customer: str, expect: str, timeout: float = 5.0
    ) -> list[str]:
        """What the console showed ``customer:NAME``."""
        console, who = self._slack.customers, f"customer:{customer}"
        return await _wait(who, lambda: console.received(who), expect, timeout)

    # -- reading ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The stored state, as ``backline state`` prints it."""
        return snapshot(self._slack.core.store)

    def _channels_of(self, member: str) -> list[str]:
        """The member's DM with the bot and the group DMs they are in."""
        user = USERS[member]
        groups = {
            c for c, _ in self.stub.messages if c.startswith("G") and user in c[1:].split("-")
        }
        return [desk(member), *sorted(groups)]

    def _seen_by(self, member: str) -> list[str]:
        user, stub = USERS[member], self.stub
        posts = [m for channel in self._channels_of(member) for m in _posts(stub, channel)]
        shown = [m.shown for m in posts if m.user != user]
        shown += [render(e["text"]) for e in stub.ephemeral if e.get("user") == user]
        shown += [render(r["text"]) for r in stub.responses if r["name"].endswith(f"-{member}")]
        return [text for text in shown if text]

    async def _card(self, member: str, iid: str) -> Posted:
        """The card of ``iid`` in one of the member's channels (waits for it, bounded)."""

        def cards() -> list[Posted]:
            return [
                card
                for channel in self._channels_of(member)
                for card in self.stub.cards(channel)
                if _header(card).startswith(f"{iid} ")
            ]

        await _wait(f"{member}'s card of {iid}", lambda: [_header(c) for c in cards()], iid, 5.0)
        return cards()[0]

    @property
    def _slack(self) -> SlackDriver:
        assert self.slack is not None, "start the driver first"
        return self.slack


def _posts(stub: SlackStub, channel: str) -> list[Posted]:
    return [m for (c, _), m in sorted(stub.messages.items()) if c == channel]


def _header(card: Posted) -> str:
    return next((str(b["text"]["text"]) for b in card.blocks if b.get("type") == "header"), "")


async def _wait(who: str, read: Callable[[], list[str]], expect: str, timeout: float) -> list[str]:
    """``read()`` once one of its texts contains ``expect``; fails naming what came."""
    deadline = asyncio.get_running_loop().time() + timeout
    texts = read()
    while not any(expect in text for text in texts):
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"{who} never received {expect!r}; got: {texts}")
        await asyncio.sleep(POLL)
        texts = read()
    return texts


async def open_driver(request: pytest.FixtureRequest, tmp_path: Path) -> SlackContractDriver:
    """A started Slack driver on a fresh database in ``tmp_path``."""
    driver = SlackContractDriver(tmp_path / "backline.db")
    await driver.start()
    return driver
