"""What happens when Slack keeps refusing a job: reopen a lost lane, or tell the member.

Nothing is dropped silently: a message Slack refused is reported on the member's desk with
its text and a ref (the same ref as the log line); a refused report is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from adapters.slack.threads import desk, lane_members
from bot.port import Say, new_ref

if TYPE_CHECKING:
    from adapters.slack.outlet import Outlet

log = logging.getLogger("backline.slack")
RECOVERABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "thread_not_found"})
Work = Callable[[], Awaitable[None]]


@dataclass
class Job:
    """One paced unit of work; ``note`` says what it carried, for a failure report."""

    work: Work
    note: str
    retried: bool = False
    reported: bool = False

    async def __call__(self) -> None:
        """Run the work."""
        await self.work()


class ResponseUrlFailed(Exception):
    """Slack refused a ``response_url`` reply (expired, or used too often)."""


class Failures:
    """The pacer's ``on_failure``: retry in a reopened conversation, or report."""

    def __init__(self, outlet: Outlet) -> None:
        self.outlet = outlet

    async def failed(self, lane: str, job: Any, exc: Exception) -> None:
        """``job`` failed for good in ``lane``."""
        assert isinstance(job, Job)
        outlet = self.outlet
        error = error_code(exc)
        if error in RECOVERABLE and not job.retried and lane.startswith(("dm:", "mpim:")):
            log.warning("slack lane %s: %s; reopening the conversation", lane, error)
            await outlet.threads.forget_lane(lane)
            job.retried = True
            outlet.pacer.submit(lane, job)
            return
        ref = new_ref()
        log.error("slack delivery failed ref=%s lane=%s: %s", ref, lane, error or exc)
        if lane.startswith("response:"):  # the response_url expired: say it on the desk
            outlet.reply_top(lane.split(":", 1)[1], job.note)
            return
        if job.reported or lane.startswith(("home:", "user:")):
            return  # the log line above is all that is left to tell
        for member in lane_members(lane):
            text = (
                f":warning: Slack refused a message for you ({error or exc}, ref {ref}); "
                f"here it is: {job.note}"
            )
            report = Job(outlet.post_top(member, Say(f"@{member}", text)), text, reported=True)
            outlet.pacer.submit(desk(member), report)


def error_code(exc: Exception) -> str | None:
    """Slack's ``error`` field (``not_in_channel``…), when the answer had one."""
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        code = exc.response.data.get("error")
        return str(code) if code else None
    return None
