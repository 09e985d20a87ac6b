"""IM-1: an IM reaches a colleague who is busy on a call or not ready; not one logged off."""

from __future__ import annotations

from tests.support.console import Console


async def test_im_reaches_a_busy_or_not_ready_colleague_but_not_a_logged_off_one_im_1(
    console: Console,
) -> None:
    await console.run("@bob: ready\nsim call Bo @bob\n@bob: accept\n@alice: im @bob quick one")
    assert console.core.directory.presence("bob").shown.value == "busy"
    assert "@alice wants to IM with you" in console.received("@bob", since_mark=False)[-1]
    await console.run("@chen: notready lunch\n@alice: im @chen lunch plans?")
    assert "@alice wants to IM with you" in console.received("@chen", since_mark=False)[-1]
    await console.run("@alice: im @dana hello")
    assert "@dana is logged off" in console.last("@alice")
    assert console.received("@dana", since_mark=False) == []
