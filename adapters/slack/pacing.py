"""Outbound pacing: one queue per channel (about one message a second), 429-aware retries.

Slack allows roughly one message per second per channel and answers bursts with HTTP 429 and
``Retry-After``. Each lane (a member's desk, a consultation's group DM) sends in order; a
429 waits as told, a 5xx or network error backs off and retries, and a job that still fails
goes to ``on_failure`` so the adapter can tell the member — nothing is dropped silently.

While an HTTP request is being answered, what its command queued is *held* (``holding``)
and starts only once the ack is written, so Web API calls never delay an ack. App-wide
per-method limits (and Retry-After for every lane) are ``ratelimit``'s, under this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.slack.ratelimit import retry_after

log = logging.getLogger("backline.slack.pacing")

Job = Callable[[], Awaitable[None]]
Failure = Callable[[str, Job, Exception], Awaitable[None]]
MAX_ATTEMPTS = 4
MAX_RATE_LIMITS = 10


class _Hold:
    """Jobs queued while one request is answered; once released, it holds nothing more."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, Job]] = []
        self.open = True


# A task (and any timer it scheduled, which copies its context) sees the request's hold.
_HELD: ContextVar[_Hold | None] = ContextVar("slack_held", default=None)


def transient(exc: Exception) -> bool:
    """A server error or a network failure: worth another try."""
    if isinstance(exc, SlackApiError):
        return bool(exc.response.status_code >= 500)
    return isinstance(exc, aiohttp.ClientError | TimeoutError | ConnectionError)


class Pacer:
    """Per-lane FIFO queues with a minimum gap between jobs of one lane."""

    def __init__(self, gap: float, on_failure: Failure, backoff: float = 0.2) -> None:
        self.gap = gap
        self.backoff = backoff
        self.on_failure = on_failure
        self._queues: dict[str, asyncio.Queue[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._last: dict[str, float] = {}
        self._pending = 0
        self._holds = 0  # requests being answered: their jobs come when the ack is out
        self._stopped = False

    def submit(self, lane: str, job: Job) -> None:
        """Queue ``job`` behind everything already queued for ``lane`` (held during a request)."""
        hold = _HELD.get()
        if hold is not None and hold.open:
            hold.jobs.append((lane, job))
            return
        if self._stopped:
            log.warning("slack lane %s: stopped; a job was dropped", lane)
            return
        queue = self._queues.get(lane)
        if queue is None:
            queue = self._queues[lane] = asyncio.Queue()
            self._workers[lane] = asyncio.create_task(self._work(lane, queue))
        self._pending += 1
        queue.put_nowait(job)

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Jobs this task submits inside the block start when it ends (after the ack)."""
        hold = _Hold()
        token = _HELD.set(hold)
        self._holds += 1
        try:
            yield
        finally:
            _HELD.reset(token)
            hold.open = False
            self._holds -= 1
            for lane, job in hold.jobs:
                self.submit(lane, job)

    async def drain(self) -> None:
        """Wait until every queued job ran (tests and shutdown)."""
        for queue in list(self._queues.values()):
            await queue.join()

    def idle(self) -> bool:
        """Nothing held, queued or running."""
        return self._pending == 0 and self._holds == 0

    async def settle(self) -> None:
        """Wait until the requests being answered are done and what they queued has run."""
        while not self.idle():
            await self.drain()
            await asyncio.sleep(0)

    async def stop(self) -> None:
        """Cancel the workers; queued jobs are abandoned (call ``drain`` first), later dropped."""
        self._stopped = True
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _work(self, lane: str, queue: asyncio.Queue[Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await self._run(lane, job)
            except Exception:
                log.exception("slack lane %s: job failed", lane)
            finally:
                self._pending -= 1
                queue.task_done()

    async def _run(self, lane: str, job: Job) -> None:
        attempts = limits = 0
        while True:
            wait = self._last.get(lane, 0.0) + self.gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last[lane] = time.monotonic()
            try:
                await job()
                return
            except SlackApiError as exc:
                delay = retry_after(exc)
                if delay is not None and limits < MAX_RATE_LIMITS:
                    limits += 1
                    log.warning("slack lane %s: rate limited, retrying in %.1fs", lane, delay)
                    await asyncio.sleep(delay)
                    continue
                if not transient(exc) or attempts + 1 >= MAX_ATTEMPTS:
                    await self.on_failure(lane, job, exc)
                    return
            except Exception as exc:
                if not transient(exc) or attempts + 1 >= MAX_ATTEMPTS:
                    await self.on_failure(lane, job, exc)
                    return
            attempts += 1
            await asyncio.sleep(self.backoff * 2 ** (attempts - 1))
