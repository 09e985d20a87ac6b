"""App-wide, per-method Web API limits: Slack's tiers, and Retry-After for every lane.

Slack limits each Web API method per workspace (its *tier*), not per channel: twenty agents'
desks updating cards at once share one ``chat.update`` budget. ``MethodLimits`` keeps one
token bucket per method (a burst of a minute's allowance, refilled evenly) and, after a 429,
holds *every* call of that method until Retry-After has passed. ``LimitedClient`` is the
``AsyncWebClient`` whose every call goes through it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

# Calls per minute by method (Slack's tiers: 2 → 20, 3 → 50, 4 → 100; chat.postMessage is
# "special": about one a second per channel, several hundred a minute per workspace).
PER_MINUTE: Mapping[str, int] = {
    "chat.postMessage": 300,
    "chat.update": 50,
    "chat.postEphemeral": 100,
    "conversations.open": 50,
    "views.publish": 100,
    "views.open": 100,
    "auth.test": 100,
}
DEFAULT_PER_MINUTE = 20


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait (HTTP 429), else None."""
    if exc.response.status_code != 429:
        return None
    value = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


class MethodLimits:
    """Per-method buckets shared by the whole app; ``paced`` False keeps only Retry-After."""

    def __init__(
        self,
        *,
        paced: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.paced = paced
        self._clock = clock
        self._sleep = sleep
        self._tokens: dict[str, float] = {}
        self._filled: dict[str, float] = {}
        self._paused: dict[str, float] = {}  # method → until when (clock time)

    def wait_for(self, method: str) -> float:
        """Seconds before a call of ``method`` may start; takes its token if it may now."""
        now = self._clock()
        paused = self._paused.get(method, 0.0) - now
        if paused > 0:
            return paused
        if not self.paced:
            return 0.0
        rate = PER_MINUTE.get(method, DEFAULT_PER_MINUTE)
        since = now - self._filled.get(method, now)
        tokens = min(float(rate), self._tokens.get(method, float(rate)) + since * rate / 60)
        self._filled[method] = now
        if tokens >= 1:
            self._tokens[method] = tokens - 1
            return 0.0
        self._tokens[method] = tokens
        return (1 - tokens) * 60 / rate

    async def acquire(self, method: str) -> None:
        """Wait until a call of ``method`` may start (Retry-After first, then its tier)."""
        while (wait := self.wait_for(method)) > 0:
            await self._sleep(wait)

    def pause(self, method: str, seconds: float) -> None:
        """Slack said to wait: no call of ``method`` starts for ``seconds``, in any lane."""
        until = self._clock() + seconds
        self._paused[method] = max(self._paused.get(method, 0.0), until)


class LimitedClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose calls wait for ``limits`` and report 429s to it."""

    def __init__(self, limits: MethodLimits, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limits = limits

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        """One Web API call, after the method's limit allows it."""
        await self.limits.acquire(api_method)
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            delay = retry_after(exc)
            if delay is not None:
                self.limits.pause(api_method, delay)
            raise
