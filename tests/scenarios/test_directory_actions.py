"""DIR-3: results offer consult, transfer and conference while you handle an interaction."""

from __future__ import annotations

from tests.support.console import Console


async def test_find_offers_collaboration_actions_only_during_an_interaction_dir_3(
    console: Console,
) -> None:
    await console.run("@alice: ready\n@alice: find bob")
    assert console.last("@alice").endswith("· call, im")
    await console.run("sim chat Ann group:support hi\n@alice: accept\n@alice: find bob")
    assert console.last("@alice").endswith("· call, im, consult, transfer, conference")
    await console.run("@alice: find group:billing")
    assert "group:billing Billing — 0 ready (now) · call, im, consult, transfer, conference" in (
        console.last("@alice")
    )
    await console.run("@alice: end\n@alice: find bob")
    assert console.last("@alice").endswith("· call, im")


async def test_a_failed_consultation_offers_retry_dir_3(console: Console) -> None:
    """The target declined: the next search shows `retry` for them."""
    await console.run(
        "@alice: ready\n@bob: ready\nsim chat Ann @alice hi\n@alice: accept\n"
        "@alice: consult @bob\n@bob: decline\n@alice: find bob"
    )
    assert "retry" in console.last("@alice").split("·")[-1]
