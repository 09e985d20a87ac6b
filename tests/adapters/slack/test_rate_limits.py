"""App-wide, per-method limits: Slack's tiers, and Retry-After holds every lane (ADP-2)."""

from __future__ import annotations

import asyncio

from adapters.slack.ratelimit import PER_MINUTE, MethodLimits
from tests.adapters.slack.driver import SlackDriver, desk, payload
from tests.adapters.slack.stub import Fault


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_method_bursts_its_minute_then_paces_adp_2() -> None:
    """ADP-2: `chat.update` (tier 3, 50/min) allows 50 at once, then one per 1.2 s, for every
    caller together; another method keeps its own budget."""
    clock = Clock()
    limits = MethodLimits(clock=clock)
    assert [limits.wait_for("chat.update") for _ in range(PER_MINUTE["chat.update"])] == [0.0] * 50
    assert abs(limits.wait_for("chat.update") - 1.2) < 1e-9
    assert limits.wait_for("views.publish") == 0.0
    clock.now += 1.2
    assert limits.wait_for("chat.update") == 0.0


def test_retry_after_holds_the_method_even_unpaced_adp_2() -> None:
    """ADP-2: after a 429 nobody calls that method until Retry-After passed; others go on."""
    clock = Clock()
    limits = MethodLimits(paced=False, clock=clock)
    limits.pause("chat.postMessage", 2.0)
    assert limits.wait_for("chat.postMessage") == 2.0
    assert limits.wait_for("chat.update") == 0.0
    clock.now += 2.0
    assert limits.wait_for("chat.postMessage") == 0.0


async def test_a_429_in_one_lane_holds_the_other_lanes_adp_2(slack: SlackDriver) -> None:
    """ADP-2: alice's desk is told to wait 1 s; bob's message, queued meanwhile in his own
    lane, waits too (one workspace limit), then both arrive once."""
    stub = slack.stub
    await slack.slash("alice", "ready")
    await slack.slash("bob", "ready")
    stub.faults.append(Fault("chat.postMessage", status=429, error="ratelimited", retry_after="1"))
    await slack.post_form(broadcast(slack, "@alice FIRST-ONE"))
    loop = asyncio.get_running_loop()
    while not any(m == "chat.postMessage" for m, _ in stub.called_at):
        await asyncio.sleep(0.01)
    refused_at = next(t for m, t in stub.called_at if m == "chat.postMessage")
    await slack.post_form(broadcast(slack, "@bob SECOND-ONE"))
    await slack.settle()
    posts = [t for m, t in stub.called_at if m == "chat.postMessage"]
    assert all(t - refused_at >= 0.9 for t in posts[1:]), [t - refused_at for t in posts]
    assert loop.time() - refused_at >= 0.9
    assert sum("SECOND-ONE" in m.shown for m in stub.top(desk("bob"))) == 1
    assert sum("FIRST-ONE" in m.shown for m in stub.top(desk("alice"))) == 1


def broadcast(slack: SlackDriver, text: str) -> dict[str, str]:
    """sam's `/bl broadcast --to TEXT` as a slash-command form (posted without settling)."""
    form = payload("slash_command")
    form.update(user_id="U0SAM", user_name="sam", text=f"broadcast --to {text}")
    form.update(
        trigger_id=f"1700000009.{len(text)}.trigger", response_url=slack.stub.response_url(text[:4])
    )
    return form
