"""ADP-5: the media clock — its own thread, absolute deadlines, raised priority, digits on the loop.

Nothing here depends on how fast the machine is: a tick is never early (the clock spins to
its deadline), counts are counted, and waits are bounded by ticks, not by wall time.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from adapters.sip.media.clock import NICE, PRIORITY, FrameClock
from adapters.sip.media.dtmf import event_packets
from adapters.sip.media.sockets import Inbox, PortPair
from tests.adapters.sip.media.conftest import Call, frames_pass

PERIOD = 0.01
PRIORITIES = {f"SCHED_FIFO {PRIORITY}", f"nice {NICE}", "normal"}


def run_until(clock: FrameClock, ticks: int) -> None:
    """Start ``clock`` and stop it once it has ticked ``ticks`` times (10 s at most)."""
    clock.start()
    give_up = time.monotonic() + 10
    while clock.ticks < ticks and time.monotonic() < give_up:
        time.sleep(PERIOD)
    clock.stop()


def test_ticks_start_on_absolute_deadlines_never_early_adp_5() -> None:
    starts: list[float] = []
    clock = FrameClock(lambda _: starts.append(time.monotonic()), period=PERIOD, max_behind=10)
    before = time.monotonic()
    run_until(clock, 20)
    assert len(starts) >= 20 and clock.skipped == 0
    assert all(at >= before + n * PERIOD for n, at in enumerate(starts))  # due n: start + n x 10 ms
    late = clock.lateness()
    assert len(late) == len(starts) and (late >= 0).all()
    assert len(clock.lateness(5)) == 5


def test_a_failing_tick_is_logged_and_the_clock_carries_on_adp_5(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def tick(next_due: float) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    clock = FrameClock(tick, period=PERIOD)
    with caplog.at_level(logging.ERROR, "adapters.sip.media.clock"):
        run_until(clock, 5)
    assert len(calls) >= 5
    assert "media tick failed; the clock carries on" in caplog.text


def test_a_clock_far_behind_starts_again_from_now_adp_5() -> None:
    clock = FrameClock(lambda _: time.sleep(0.05 if clock.ticks == 2 else 0), period=PERIOD)
    clock.max_behind = 0.03
    run_until(clock, 10)
    assert clock.skipped == 1


def test_the_thread_asks_for_real_time_priority_unless_turned_off_adp_5() -> None:
    threads: list[str] = []
    raised = FrameClock(lambda _: threads.append(threading.current_thread().name), period=PERIOD)
    run_until(raised, 2)
    assert raised.priority in PRIORITIES
    assert set(threads) == {"media-clock"}  # never the caller's thread
    plain = FrameClock(lambda _: None, period=PERIOD, realtime=False)
    run_until(plain, 2)
    assert plain.priority == "normal"
    assert not plain.running


async def test_a_burst_past_the_reading_time_waits_for_the_next_tick_adp_5() -> None:
    loop = asyncio.get_running_loop()
    inbox, pairs, got = Inbox(), [], []
    for port in range(23000, 23998, 2):  # three free pairs
        pair = PortPair.bind("127.0.0.1", port, loop)
        if pair is not None:
            inbox.add(pair, lambda data, source, arrival: got.append(data))
            pairs.append(pair)
        if len(pairs) == 3:
            break
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for pair in pairs:
            for n in range(3):  # a phone that fell behind: three frames at once
                sender.sendto(b"%d:%d" % (pair.port, n), ("127.0.0.1", pair.port))
        inbox.drain(until=0.0)  # no time left: one datagram from every socket, no more
        assert sorted(got) == [b"%d:0" % pair.port for pair in pairs]
        for _ in range(100):
            inbox.drain()
            if len(got) == 9:
                break
            await asyncio.sleep(0.01)
        assert sorted(got) == sorted(b"%d:%d" % (p.port, n) for p in pairs for n in range(3))
    finally:
        sender.close()
        inbox.close()
        for pair in pairs:
            pair.close()


async def test_dtmf_callbacks_run_in_the_event_loop_thread_msg_5(call: Call) -> None:
    seen: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()
    call.server.on_dtmf(
        lambda leg, digit: seen.append((digit, threading.get_ident() == loop_thread))
    )
    for packet in event_packets("9", payload_type=101, ssrc=7, sequence=1, timestamp=1):
        call.phones["agent"].send_raw(packet.to_bytes())
    await frames_pass(call.server, 0.1)
    await asyncio.sleep(0)  # the hand-over to the loop
    assert seen == [("9", True)]
    assert call.server.clock.priority in PRIORITIES
