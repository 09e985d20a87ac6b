"""The Matrix adapter against a real Synapse: desks, customers, rooms (ADP-3)."""

from __future__ import annotations

from tests.live.matrix.conftest import People
from tests.support.synapse import Backline

BOT = "@backline:localhost"


async def test_a_members_dm_with_the_bot_is_their_desk_adp_3(
    backline: Backline, people: People
) -> None:
    """ADP-3: alice DMs the bot; `!bl ready` and plain `groups` are both commands, answered
    as notices in that DM."""
    alice = await people("alice")
    desk = await alice.dm(BOT, "Your backline desk")
    await alice.send(desk, "!bl ready")
    answer = await alice.wait_for("You are ready", desk)
    assert answer.sender == BOT and answer.msgtype == "m.notice"
    await alice.send(desk, "groups")
    await alice.wait_for("Support — 1 ready", desk)
    members = {m["id"]: m["presence"] for m in backline.state()["members"]}
    assert members["alice"] == "ready"
