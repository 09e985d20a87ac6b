"""Bad input to every interaction command: a specific refusal, and nothing changes (OPS-3).

The world each case starts from:
  i1: alice's active chat with Ann;      i2: bob's active call with Carl;
  i3: an email from Eve ringing chen;    i4: dana's IM with sam (no customer).
fay has no interaction at all. Every refusal names what is wrong, ends with a ref, goes
to the sender only, and leaves the store (all but the events log, which records the
refusal) and the live engine exactly as they were.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.state import snapshot
from tests.support.console import RULES, Console
from tests.support.state import live_view

REF = re.compile(r"\(ref [0-9a-f]{6}\)$")
WORLD = """
@alice: ready
@bob: ready
@chen: ready
@dana: ready
@sam: ready
sim chat Ann @alice hi there
@alice: accept
sim call Carl @bob
@bob: accept
sim email Eve @chen Invoice missing
@dana: im @sam quick question
@sam: accept
"""
MEMBERS = ("alice", "bob", "chen", "dana", "eli", "fay", "sam", "sky")
NO_ID = "You have no live interaction i999. `list` shows yours."
NOTHING = "You have no live interaction. `list` shows yours."
NOBODY = "Nobody called @nobody is in the directory."
NO_GROUP = "There is no group called 'nope'."


def store_tables(console: Console) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the append-only events log."""
    conn = console.core.store.conn
    names = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        if name != "events" and not name.startswith("events_")
    ]
    return {
        name: sorted(map(tuple, conn.execute(f"SELECT * FROM {name}")), key=repr) for name in names
    }


def engine_state(console: Console) -> dict[str, Any]:
    """The live interactions, focus and presence as the running process holds them."""
    engine = console.core.engine
    return {
        "live": {
            iid: (
                ix.kind,
                ix.state,
                ix.owner,
                ix.offer,
                ix.disposition,
                ix.mode,
                dict(ix.case),
                {
                    p.who: (p.role, p.connected, p.muted, p.done, p.about)
                    for p in ix.parties.values()
                },
            )
            for iid, ix in engine.live.items()
        },
        "focus": {m: engine.focus_of(m) for m in MEMBERS},
        "presence": {m: console.core.directory.presence(m) for m in MEMBERS},
        "counts": console.core.directory.counts(),
    }


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Console]:
    driver = Console(RULES, tmp_path / "backline.db")
    await driver.run(WORLD)
    stored = snapshot(driver.core.store)["interactions"]
    assert {ix["id"]: (ix["kind"], ix["state"], ix["owner"]) for ix in stored} == {
        "i1": ("chat", "active", "alice"),
        "i2": ("voice", "active", "bob"),
        "i3": ("email", "offered", None),
        "i4": ("im", "active", "dana"),
    }
    yield driver
    driver.close()


CASES: list[tuple[str, str, list[str]]] = [
    # accept / decline
    ("alice", "accept", ["Nothing is offered to you right now."]),
    ("alice", "accept i999", ["There is no live interaction i999."]),
    ("chen", "accept i3 i1", ["`accept`: too many arguments.", "Usage: `accept [ID]`"]),
    ("chen", "accept bogus", ["'bogus' is not an interaction id", "Usage: `accept [ID]`"]),
    ("fay", "accept i2", ["i2 was already taken by @bob."]),
    ("fay", "accept i3", ["Nothing about i3 is offered to you now."]),
    ("fay", "decline", ["Nothing is offered to you right now."]),
    ("chen", "decline i999", ["There is no live interaction i999."]),
    ("alice", "decline i3", ["Nothing about i3 is offered to you now."]),
    ("chen", "decline i3 now", ["`decline`: too many arguments."]),
    ("chen", "decline later", ["'later' is not an interaction id", "Usage: `decline [ID]`"]),
    # say
    ("alice", "say", ["`say`: missing arguments.", "Usage: `say [ID] TEXT`"]),
    ("alice", "say i1", ["what should I say?"]),
    ("alice", "say i999 hello", [NO_ID]),
    ("alice", "say i2 hello", ["You have no live interaction i2."]),
    ("fay", "say hello", [NOTHING]),
    ("chen", "say i3 hello", ["You have no live interaction i3."]),
    # hold / resume
    ("alice", "hold", ["i1 is a chat, and chats are not held; only calls are."]),
    ("alice", "hold i999", [NO_ID]),
    ("alice", "hold i1 now", ["`hold`: too many arguments."]),
    ("alice", "hold now", ["`hold` takes only an interaction id."]),
    ("fay", "hold", [NOTHING]),
    ("dana", "hold", ["i4 is an IM, and IMs are not held; only calls are."]),
    ("bob", "resume", ["Can't resume i2 voice with Carl: it is active.", "`hold`"]),
    ("alice", "resume i999", [NO_ID]),
    ("bob", "resume now", ["`resume` takes only an interaction id."]),
    ("fay", "resume", [NOTHING]),
    # end / done / dispose
    ("fay", "end", [NOTHING]),
    ("alice", "end i999", [NO_ID]),
    ("alice", "end i2", ["You have no live interaction i2."]),
    ("alice", "end i1 now", ["`end`: too many arguments."]),
    ("alice", "done", ["You are still connected to i1; `end` or `leave` it first."]),
    ("bob", "done i2", ["You are still connected to i2; `end` or `leave` it first."]),
    ("dana", "done i4", ["You are still connected to i4"]),
    ("alice", "done i999", [NO_ID]),
    ("fay", "done", [NOTHING]),
    ("alice", "dispose", ["`dispose`: missing arguments.", "Usage: `dispose CODE [ID]`"]),
    ("alice", "dispose sold i999", ["You have no live interaction i999."]),
    ("alice", "dispose sold i1 now", ["`dispose`: too many arguments."]),
    ("fay", "dispose sold", [NOTHING]),
    ("dana", "dispose sold", ["i4 has no customer; dispositions are for customer work."]),
    # consult / swap
    ("alice", "consult", ["`consult`: missing arguments.", "consult TARGET [voice|chat|im]"]),
    ("alice", "consult @nobody", [NOBODY]),
    ("alice", "consult group:nope", [NO_GROUP]),
    ("alice", "consult skill:nope", ["There is no skill called 'nope'."]),
    ("alice", "consult chen", ["'chen' is not a target.", "Did you mean @chen?"]),
    ("alice", "consult @chen fax", ["'fax' is not a consultation type; use voice, chat or im."]),
    ("alice", "consult @chen chat now", ["`consult`: too many arguments."]),
    ("alice", "consult @alice", ["You cannot consult yourself."]),
    ("alice", "consult @eli voice", ["@eli has no voice endpoint"]),
    ("fay", "consult @chen", [NOTHING]),
    ("dana", "consult @chen", ["consult about a customer interaction"]),
    ("alice", "swap", ["You have no voice consultation to swap with."]),
    ("bob", "retrieve", ["You have no voice consultation to swap with."]),
    ("fay", "swap", ["You have no voice consultation to swap with."]),
    ("bob", "swap i2", ["`swap`: too many arguments.", "Usage: `swap`"]),
    # transfer
    ("fay", "transfer @bob", [NOTHING]),
    ("alice", "transfer", ["Name a target, or run this inside a consultation on i1."]),
    ("alice", "transfer @nobody", [NOBODY]),
    ("alice", "transfer group:nope", [NO_GROUP]),
    ("alice", "transfer queue:nope", ["There is no queue called 'nope'."]),
    ("alice", "transfer rp:nope", ["There is no routing point called 'nope'."]),
    ("alice", "transfer bob", ["'bob' is not a target.", "Did you mean @bob?"]),
    ("alice", "transfer @alice", ["You already own it."]),
    ("alice", "transfer @fay", ["@fay is logged off, so i1 stays with you."]),
    ("alice", "transfer now", ["now to whom?"]),
    ("alice", "transfer @chen @dana", ["Usage: `transfer "]),
    ("alice", "transfer --explain", ["`--explain` needs a target"]),
    ("alice", "transfer i1 now @chen --explain x", ["`transfer`: too many arguments."]),
    ("alice", "transfer i999 @chen", [NO_ID]),
    ("dana", "transfer @chen", ["i4 is internal; transfer works on customer interactions."]),
    # conference
    ("fay", "conference @bob", [NOTHING]),
    ("alice", "conference", ["Name a target, or run this inside a consultation on i1."]),
    ("alice", "conference @nobody", [NOBODY]),
    ("alice", "conference group:nope", [NO_GROUP]),
    ("alice", "conference @alice", ["@alice is already in i1."]),
    ("alice", "conference now", ["now to whom?"]),
    ("alice", "conference @chen @dana", ["Usage: `conference "]),
    ("alice", "conference i1 now @chen --explain x", ["`conference`: too many arguments."]),
    ("dana", "conference @chen", ["i4 is internal; conference works on customer interactions."]),
    # leave / remove
    ("alice", "leave", ["@alice is the last member on i1; `end` it or `transfer` it instead."]),
    ("fay", "leave", [NOTHING]),
    ("alice", "leave i999", [NO_ID]),
    ("alice", "leave i1 now", ["`leave`: too many arguments."]),
    ("alice", "remove", ["`remove`: missing arguments.", "Usage: `remove [ID] @MEMBER`"]),
    ("alice", "remove @nobody", [NOBODY]),
    ("alice", "remove @bob", ["@bob is not a member connected to i1."]),
    ("alice", "remove @alice", ["To drop out yourself, use `leave`."]),
    ("alice", "remove group:support", ["group:support is not a party; name a member like @bob."]),
    ("alice", "remove i999 @bob", [NO_ID]),
    ("alice", "remove i1 @bob now", ["`remove`: too many arguments."]),
    ("fay", "remove @bob", [NOTHING]),
    # mute / unmute
    ("alice", "mute", ["`mute`: missing arguments.", "Usage: `mute [ID] @MEMBER`"]),
    ("alice", "mute @nobody", [NOBODY]),
    ("alice", "mute @chen", ["@chen is not connected to i1."]),
    ("alice", "mute group:support", ["group:support is not a party"]),
    ("alice", "mute i2 @bob", ["You have no live interaction i2."]),
    ("fay", "mute @alice", [NOTHING]),
    ("alice", "unmute", ["`unmute`: missing arguments.", "Usage: `unmute [ID] @MEMBER`"]),
    ("alice", "unmute @chen", ["@chen is not connected to i1."]),
    ("alice", "unmute i999 @chen", [NO_ID]),
    ("alice", "unmute @nobody", [NOBODY]),
    # im
    ("alice", "im", ["`im`: missing arguments.", "Usage: `im TARGET [TEXT]`"]),
    ("alice", "im @nobody hi", [NOBODY]),
    ("alice", "im group:nope hi", [NO_GROUP]),
    ("alice", "im @alice hi", ["You cannot IM yourself."]),
    ("alice", "im hello there", ["'hello' is not a target."]),
    # focus / history
    ("alice", "focus", ["`focus`: missing arguments.", "Usage: `focus ID`"]),
    ("alice", "focus i999", [NO_ID]),
    ("alice", "focus i2", ["You have no live interaction i2."]),
    ("alice", "focus i1 i2", ["`focus`: too many arguments."]),
    ("fay", "focus i1", ["You have no live interaction i1."]),
    ("alice", "history", ["`history`: missing arguments.", "Usage: `history ID`"]),
    ("alice", "history i999", ["There is no interaction i999."]),
    ("fay", "history i1", ["You never took part in i1; only its parties and supervisors see it."]),
    ("alice", "history i1 i2", ["`history`: too many arguments."]),
    # supervision: agents may not, supervisors only over their groups
    ("alice", "monitor @bob", ["Only supervisors can use `monitor`."]),
    ("alice", "coach @alice", ["Only supervisors can use `coach`."]),
    ("bob", "barge @alice", ["Only supervisors can use `barge`."]),
    ("alice", "unmonitor @bob", ["Only supervisors can use `unmonitor`."]),
    ("sam", "monitor", ["`monitor`: missing arguments.", "Usage: `monitor @AGENT [next]`"]),
    ("sam", "monitor @nobody", [NOBODY]),
    ("sam", "monitor group:support", ["Supervise a member, like @bob; group:support is a group."]),
    ("sam", "monitor @bob later", ["Usage: `monitor @agent [next]`."]),
    ("sam", "monitor @bob next now", ["`monitor`: too many arguments."]),
    ("sam", "monitor @dana", ["You do not supervise any group of @dana."]),
    ("sky", "monitor @bob", ["You do not supervise any group of @bob."]),
    ("sam", "monitor @chen", ["@chen has no live interaction.", "`monitor @chen next`"]),
    ("sam", "monitor @sam", ["You cannot supervise yourself."]),
    ("sam", "coach", ["`coach`: missing arguments.", "Usage: `coach @AGENT`"]),
    ("sam", "coach @nobody", [NOBODY]),
    ("sam", "coach @bob now", ["`coach`: too many arguments."]),
    ("sky", "coach @alice", ["You do not supervise any group of @alice."]),
    ("sam", "barge", ["`barge`: missing arguments."]),
    ("sam", "barge @nobody", [NOBODY]),
    ("sam", "barge @chen", ["@chen has no live interaction."]),
    ("sam", "barge rp:sales", ["Supervise a member, like @bob"]),
    ("sam", "unmonitor", ["`unmonitor`: missing arguments.", "Usage: `unmonitor @AGENT`"]),
    ("sam", "unmonitor @bob", ["You are neither supervising nor following @bob."]),
    ("sam", "unmonitor @nobody", [NOBODY]),
]
COMMANDS = [
    *("accept", "decline", "say", "hold", "resume", "end", "done", "dispose"),
    *("consult", "swap", "transfer", "conference", "leave", "remove", "mute", "unmute"),
    *("im", "focus", "history", "monitor", "coach", "barge", "unmonitor"),
]


def test_every_interaction_command_has_bad_input_cases() -> None:
    """OPS-3: the table covers every interaction command with at least two bad inputs."""
    first_words = [text.split()[0] for _, text, _ in CASES]
    aliases = {"retrieve": "swap"}
    covered = {aliases.get(word, word) for word in first_words}
    assert covered == set(COMMANDS)
    for command in COMMANDS:
        assert sum(aliases.get(w, w) == command for w in first_words) >= 2, command


@pytest.mark.parametrize(
    ("member", "text", "keywords"), CASES, ids=[f"{m}: {t}" for m, t, _ in CASES]
)
async def test_bad_input_is_refused_specifically_and_changes_nothing_ops_3(
    world: Console, member: str, text: str, keywords: list[str]
) -> None:
    """OPS-3 / INT-*: a refusal that names the problem; store and live state untouched."""
    console = world
    tables, state, live = store_tables(console), snapshot(console.core.store), engine_state(console)
    refusals = len(console.core.store.events(kind="refused"))
    console.mark()
    out = await console.run(f"@{member}: {text}")

    replies = console.received(f"@{member}")
    assert len(replies) == 1, replies
    reply = replies[0]
    assert REF.search(reply), reply
    for words in keywords:
        assert words in reply, reply
    # nobody else received anything: no member, no customer
    delivered = [line for line in out if line.startswith("[")]
    assert delivered == [f"[@{member}] {reply}"], delivered

    assert snapshot(console.core.store) == state
    assert store_tables(console) == tables
    assert engine_state(console) == live
    logged = console.core.store.events(kind="refused")
    assert len(logged) == refusals + 1
    assert logged[-1].data["text"] == text


async def test_a_bad_accept_argument_never_takes_the_offer_int_3(world: Console) -> None:
    """INT-3: `accept bogus` used to take chen's ringing email; now it is refused, still rung."""
    console = world
    await console.run("@chen: accept bogus\n@chen: list")
    assert console.last("@chen").splitlines() == [
        "Your interactions:",
        "  i3 email with Eve — offered to you: `accept i3` or `decline i3`",
    ]
    ix = live_view(console, "i3")
    assert (ix.state, ix.owner, ix.handlers) == ("offered", None, ("chen",))
    assert live_view(console, "i3", "chen").offered  # still ringing chen
    await console.run("@chen: accept i3")
    assert live_view(console, "i3").owner == "chen"
