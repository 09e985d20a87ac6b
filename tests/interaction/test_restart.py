"""A restart keeps live work going: interactions, offers, waits and their timers (OPS-2, INT-3).

The world before the restart, all on one SQLite file:
  (a) i1: alice's chat with Ann; i2: alice's chat consultation with chen about it (CON-1);
  (b) i3: dana's call with Carl, transferred to @bob and ringing him (TRF-1, 20s timeout);
  (c) i4: Dan's chat to billing, waiting for a member (GRP-3, 30s, then fallback:support).
Then a new process (a new `Console` on the same file) carries on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.interaction.engine import Engine
from bot.state import snapshot
from tests.support.console import RULES, Console, copy_rules
from tests.support.state import live_view, ringing

MEMBERS = ("alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky")
BEFORE = """
@alice: ready
@bob: ready
@chen: ready
@dana: ready
sim chat Ann @alice my parcel is lost
@alice: accept
@alice: consult @chen
@chen: accept
@chen: say i2 check the courier first
sim call Carl @dana
@dana: accept
@dana: transfer @bob
sim chat Dan group:billing refund please
tick 5s
"""


def memory_of(engine: Engine) -> dict[str, Any]:
    """Everything that defines a live interaction in memory, in comparable form."""
    return {
        iid: {
            "kind": ix.kind,
            "state": ix.state,
            "owner": ix.owner,
            "parent": ix.parent,
            "customer": ix.customer,
            "mode": ix.mode,
            "case": dict(ix.case),
            "offer": ix.offer.as_dict() if ix.offer else None,
            "parties": {
                p.who: (p.role.value, p.connected, p.muted, p.done, p.about)
                for p in ix.parties.values()
            },
        }
        for iid, ix in engine.live.items()
    }


def stored_view(state: dict[str, Any]) -> dict[str, Any]:
    """The live interactions of a snapshot: owners, parties, states."""
    return {
        i["id"]: {
            "kind": i["kind"],
            "state": i["state"],
            "owner": i["owner"],
            "parent": i["parent"],
            "parties": {p["who"]: (p["role"], p["connected"]) for p in i["parties"]},
        }
        for i in state["interactions"]
        if i["state"] != "closed"
    }


def brief(view: dict[str, Any]) -> dict[str, Any]:
    """``memory_of`` cut down to what a snapshot holds."""
    return {
        iid: {
            "kind": v["kind"],
            "state": v["state"],
            "owner": v["owner"],
            "parent": v["parent"],
            "parties": {who: p[:2] for who, p in v["parties"].items()},
        }
        for iid, v in view.items()
    }


class Restarted:
    """The world of ``BEFORE``, what it held when it stopped, and the restarted console."""

    def __init__(self, before: dict[str, Any], memory: dict[str, Any], focus: dict[str, Any]):
        self.before = before
        self.memory = memory
        self.focus = focus


@pytest.fixture
async def restarted(tmp_path: Path) -> AsyncIterator[tuple[Console, Restarted]]:
    """Run ``BEFORE``, close the process, open a new one on the same database."""
    database = tmp_path / "backline.db"
    first = Console(RULES, database)
    await first.run(BEFORE)
    world = Restarted(
        snapshot(first.core.store),
        memory_of(first.core.engine),
        {m: first.core.engine.focus_of(m) for m in MEMBERS},
    )
    stopped_at = first.clock.now()
    first.close()

    second = Console(RULES, database)
    # the new process's clock starts where the old one stopped (it was 5s into the story)
    await second.clock.advance(stopped_at - second.clock.now())
    yield second, world
    second.close()


async def test_the_world_before_the_restart_is_as_described(
    restarted: tuple[Console, Restarted],
) -> None:
    """OPS-2: (a) a consultation in progress, (b) a transfer ringing bob, (c) a waiting chat."""
    _, world = restarted
    live = world.memory
    assert sorted(live) == ["i1", "i2", "i3", "i4"]
    assert (live["i2"]["kind"], live["i2"]["state"], live["i2"]["parent"]) == (
        "consultation",
        "active",
        "i1",
    )
    assert live["i2"]["parties"]["@chen"][:2] == ("consultant", True)
    assert live["i3"]["state"] == "held"
    assert live["i3"]["owner"] == "dana"
    assert live["i3"]["offer"]["purpose"] == "transfer"
    assert live["i3"]["offer"]["to"] == ["bob"]
    assert live["i4"]["state"] == "queued"
    assert live["i4"]["offer"]["to"] == []
    assert live["i4"]["offer"]["target"] == "group:billing"


async def test_state_reloaded_from_the_store_equals_the_state_in_memory_ops_2(
    restarted: tuple[Console, Restarted],
) -> None:
    """OPS-2: after restart, memory = what the old process held = what the store holds."""
    console, world = restarted
    engine = console.core.engine
    assert memory_of(engine) == world.memory
    state = snapshot(console.core.store)
    assert state == world.before
    assert stored_view(state) == brief(memory_of(engine))
    assert {m: engine.focus_of(m) for m in MEMBERS} == world.focus
    presence = {m["id"]: m["presence"] for m in state["members"]}
    assert presence["dana"] == "busy"  # still on the held call
    assert presence["bob"] == "ready"
    assert console.core.directory.counts() == console.core.directory.recount()


async def test_a_consultation_goes_on_after_a_restart_con_1_ops_2(
    restarted: tuple[Console, Restarted],
) -> None:
    """CON-1 / OPS-2: chen and alice still talk in i2; Ann hears none of it; `list` shows it."""
    console, _ = restarted
    console.mark()
    await console.run(
        "@chen: say i2 still there?\n@alice: say i2 yes, go on\n@alice: list\n@chen: list"
    )
    assert console.received("@alice") == [
        "(i2) @chen: still there?",
        "Your interactions:",
        "  i1 chat with Ann — active, you own it",
        "  i2 chat consultation about i1 with @chen — active, you own it (current)",
    ]
    assert console.received("@chen") == [
        "(i2) @alice: yes, go on",
        "Your interactions:",
        "  i2 chat consultation about i1 with @alice — active, consultant (current)",
    ]
    assert console.received("customer:Ann") == []
    console.mark()
    await console.run("sim say Ann hello?\n@alice: say i1 one moment")
    assert console.received("@alice") == ["(i1) Ann: hello?"]
    assert console.received("customer:Ann") == ["(i1) Alice Anders: one moment"]
    assert console.received("@chen") == []


async def test_bob_accepts_the_transfer_offered_before_the_restart_trf_2_ops_2(
    restarted: tuple[Console, Restarted],
) -> None:
    """TRF-2 / OPS-2: bob's `list` shows the offer; he accepts and owns the call."""
    console, _ = restarted
    console.mark()
    await console.run("@bob: list\n@bob: accept")
    assert console.received("@bob")[:2] == [
        "Your interactions:",
        "  i3 voice with Carl — offered to you: `accept i3` or `decline i3`",
    ]
    assert console.received("@bob")[2] == "You now own i3 voice with Carl (from @dana)."
    assert console.received("@dana") == [
        "(i3) @bob took over i3. Mark it `done i3`.",
        "(i3) You are in after-call work for up to 2m, then ready again; "
        "type `ready` to leave it sooner.",
    ]
    assert console.received("customer:Carl") == ["(i3) You are now with Bob Baker."]
    ix = live_view(console, "i3")
    assert (ix.state, ix.owner, ix.offer_expires) == ("active", "bob", None)
    stored = stored_view(snapshot(console.core.store))["i3"]
    assert stored["owner"] == "bob"
    assert stored["parties"] == {
        "@dana": ("member", False),
        "customer:Carl": ("customer", True),
        "@bob": ("owner", True),
    }
    # the old offer timer no longer fires once accepted
    console.mark()
    await console.run("tick 31s")
    assert console.received("@bob") == []
    assert live_view(console, "i3").owner == "bob"


async def test_timers_armed_before_the_restart_fire_after_it_int_3_grp_3_ops_2(
    restarted: tuple[Console, Restarted],
) -> None:
    """INT-3 / GRP-3 / OPS-2: the transfer times out at its old deadline; the wait falls back."""
    console, _ = restarted
    console.mark()
    await console.run("tick 14s")  # 19s after the transfer: still ringing
    assert console.received("@bob") == []
    assert ringing(console, "i3")

    await console.run("tick 2s")  # 21s: the offer times out back to dana, still on hold
    assert console.received("@bob") == ["(i3) The offer of i3 timed out."]
    assert console.received("@dana") == [
        "(i3) @bob did not answer. i3 is back with you, still on hold; `resume`, or transfer "
        "it elsewhere."
    ]
    ix = live_view(console, "i3")
    assert (ix.state, ix.owner, ix.offer_expires) == ("held", "dana", None)
    assert live_view(console, "i4").state == "queued"

    console.mark()
    await console.run("tick 10s")  # 31s: billing stayed empty, so support gets the chat
    assert console.received("customer:Dan") == [
        "(i4) Thank you for waiting; we are still finding someone for you."
    ]
    assert console.received("@bob") == [
        "(i4) New chat from Dan via group:support: “refund please”. "
        "`accept i4` or `decline i4` within 20s."
    ]
    assert [e.data for e in console.core.store.events(subject="i4", kind="fallback")] == [
        {"from": "group:billing", "to": "group:support"}
    ]
    await console.run("@bob: accept i4\n@dana: resume\n@chen: say i2 done here")
    stored = stored_view(snapshot(console.core.store))
    assert (stored["i4"]["state"], stored["i4"]["owner"]) == ("active", "bob")
    assert (stored["i3"]["state"], stored["i3"]["owner"]) == ("active", "dana")
    assert stored["i2"]["state"] == "active"
    assert console.last("@alice") == "(i2) @chen: done here"


async def test_timed_after_call_work_still_ends_after_a_restart_int_4_ops_2(tmp_path: Path) -> None:
    """INT-4 / OPS-2: 30s after-call work, restarted 10s in: ready again at 30s, and told."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "after_call_work: 0s" in text
    policy.write_text(text.replace("after_call_work: 0s", "after_call_work: 30s", 1), "utf-8")
    first = Console(rules, tmp_path / "db")
    await first.run("@alice: ready\nsim call Carl @alice\n@alice: accept\n@alice: end\ntick 10s")
    stopped_at = first.clock.now()
    first.close()

    console = Console(rules, tmp_path / "db")
    try:
        await console.clock.advance(stopped_at - console.clock.now())
        assert console.core.directory.presence("alice").state.value == "after_call_work"
        console.mark()
        await console.run("tick 19s")
        assert console.received("@alice") == []
        assert console.core.directory.presence("alice").state.value == "after_call_work"
        await console.run("tick 2s\n@dana: status @alice")
        assert console.received("@alice") == ["After-call work is over; you are ready."]
        assert console.last("@dana").startswith("@alice Alice Anders — ready")
        members = snapshot(console.core.store)["members"]
        assert {m["id"]: m["presence"] for m in members}["alice"] == "ready"
    finally:
        console.close()
