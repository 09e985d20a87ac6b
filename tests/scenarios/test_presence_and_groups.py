"""Presence commands and live group counts, through the console (DIR-5, GRP-1, GRP-2, GRP-4)."""

from __future__ import annotations

from tests.support.console import Console


async def test_presence_changes_show_in_group_counts_at_once(console: Console) -> None:
    """GRP-2 / DIR-5: each presence command moves the support count in the very next `groups`."""
    await console.run("@dana: groups")
    assert "group:support Support — 0 ready (now)" in console.last("@dana")
    await console.run("@alice: ready\n@bob: ready\n@dana: groups")
    assert "group:support Support — 2 ready (now)" in console.last("@dana")
    await console.run("@bob: notready lunch\n@dana: groups")
    assert "group:support Support — 1 ready (now)" in console.last("@dana")
    await console.run("@alice: aftercall\n@dana: groups")
    assert "group:support Support — 0 ready (now)" in console.last("@dana")
    assert console.core.directory.counts() == console.core.directory.recount()
