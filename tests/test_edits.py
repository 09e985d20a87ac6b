"""Corrections relayed as corrections (ADP-6): the relay context and the posted-id memory."""

from __future__ import annotations

import asyncio

from bot.port import EDITED, Posted, Relay, relaying, unmarked
from bot.port.edits import relayed


def test_a_message_with_an_id_is_relayed_under_a_platform_wide_key_adp_6() -> None:
    assert relaying() is None
    with relayed("xmpp", "ann@example.org", "m1"):
        assert relaying() == Relay("xmpp:ann@example.org:m1")
    with relayed("xmpp", "ann@example.org", "m2", corrects="m1"):
        relay = relaying()
        assert relay == Relay("xmpp:ann@example.org:m2", "xmpp:ann@example.org:m1")
        assert relay is not None and relay.original == "xmpp:ann@example.org:m1"
    with relayed("xmpp", "ann@example.org", None, corrects="m1"):
        assert relaying() is None  # nothing to key a message without an id by
    assert relaying() is None


async def test_work_started_while_handling_a_message_is_not_its_relay_adp_6() -> None:
    later: list[Relay | None] = []
    loop = asyncio.get_running_loop()
    fired = loop.create_future()

    def timer() -> None:
        later.append(relaying())
        fired.set_result(None)

    with relayed("xmpp", "ann", "m2", corrects="m1"):
        loop.call_later(0.01, timer)  # copies the context, as the core's timers do
    await fired
    assert later == [None]


async def test_concurrent_messages_each_see_their_own_relay_adp_6() -> None:
    seen: dict[str, Relay | None] = {}

    async def handle(sender: str) -> None:
        with relayed("slack", sender, "1"):
            await asyncio.sleep(0.01)
            seen[sender] = relaying()

    await asyncio.gather(handle("U1"), handle("U2"))
    assert seen == {"U1": Relay("slack:U1:1"), "U2": Relay("slack:U2:1")}


FIXED = f"Ann: {EDITED}15 EUR"


def test_posted_ids_edit_the_first_posting_of_the_original_for_each_recipient_adp_6() -> None:
    posted = Posted(size=2)
    original = Relay("xmpp:ann:m1")
    posted.remember(original, "alice", "out-1")
    posted.remember(original, "alice", "out-1b")  # a second part keeps the first id
    posted.remember(original, "bob", "out-2")
    fix = Relay("xmpp:ann:m2", corrects="xmpp:ann:m1")
    assert posted.edits(fix, "alice", FIXED) == "out-1"
    assert posted.edits(fix, "alice", "Ann joined") is None  # not the correction itself
    assert posted.edits(fix, "bob", FIXED) == "out-2"
    assert posted.edits(fix, "chen", FIXED) is None  # never sent to chen: deliver the marked text
    assert posted.edits(original, "alice", FIXED) is None  # not a correction
    posted.remember(fix, "alice", "out-3")  # a correction is not a new original
    assert posted.edits(fix, "alice", FIXED) == "out-1"
    posted.remember(Relay("xmpp:ann:m9"), "alice", "out-9")  # bounded: the oldest goes
    assert posted.edits(fix, "alice", FIXED) is None
    assert posted.edits(fix, "bob", FIXED) == "out-2"


def test_a_correction_reads_unmarked_where_it_is_shown_as_an_edit_adp_6() -> None:
    assert unmarked(f"Alice: {EDITED}15 EUR") == "Alice: 15 EUR"
    assert unmarked(f"{EDITED}{EDITED}x") == f"{EDITED}x"
