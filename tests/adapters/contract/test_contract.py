"""The adapter contract: one behaviour suite every driver runs (ADP-6).

alice and bob (group support) are on the driver's platform, chen on the console. Every
negative check ("the customer never saw it") comes after a later message to the same party
has arrived, so a slow platform cannot make it pass by not having delivered yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.port import Batch, Outgoing, Priority, Unsupported
from bot.state import snapshot
from tests.adapters.contract.driver import Driver
from tests.adapters.contract.drivers.console import ConsoleDriver

AGENTS = ("alice", "bob")
WAIT = 10.0


# --- reading the stored state -------------------------------------------------------------


async def until(driver: Driver, what: str, check: Callable[[dict[str, Any]], bool]) -> None:
    """Wait (bounded) until ``check`` holds for the stored state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not check(driver.state()):
        if loop.time() >= deadline:
            raise AssertionError(f"never true: {what}; state: {driver.state()}")
        await asyncio.sleep(0.02)


def interaction(state: dict[str, Any], iid: str) -> dict[str, Any]:
    found = [ix for ix in state["interactions"] if ix["id"] == iid]
    assert found, f"{iid} is not stored: {state['interactions']}"
    return found[0]


def parties(state: dict[str, Any], iid: str) -> dict[str, tuple[str, bool]]:
    return {p["who"]: (p["role"], p["connected"]) for p in interaction(state, iid)["parties"]}


def presence(state: dict[str, Any], member: str) -> str:
    return next(m["presence"] for m in state["members"] if m["id"] == member)


def available(state: dict[str, Any], group: str) -> int:
    return next(g["available"] for g in state["groups"] if g["id"] == group)


def newest(state: dict[str, Any], kind: str) -> str | None:
    found = [ix["id"] for ix in state["interactions"] if ix["kind"] == kind]
    return found[-1] if found else None


def mentioning(lines: list[str], token: str) -> list[str]:
    return [line for line in lines if token in line]


async def everything(driver: Driver, member: str, probe: str) -> list[str]:
    """All the member got so far: they search for ``probe`` and wait for that reply, so
    what was delivered before it has arrived too."""
    await driver.member_types(member, f"find {probe}")
    return await driver.member_received(member, f"Nothing found for '{probe}'")


# --- stories ------------------------------------------------------------------------------


async def ready(driver: Driver, *members: str) -> None:
    """Each member sets themself available on the platform, one after the other."""
    for member in members:
        await driver.member_presence(member, True)
        await until(driver, f"{member} ready", lambda s, m=member: presence(s, m) == "ready")


async def offered_to(driver: Driver, token: str, members: tuple[str, ...]) -> str:
    """The one member whose offer quotes ``token``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        for member in members:
            try:
                await driver.member_received(member, token, timeout=0.1)
            except AssertionError:
                continue
            return member
        if loop.time() >= deadline:
            raise AssertionError(f"none of {members} was offered the work quoting {token!r}")


async def open_chat(driver: Driver, customer: str, first: str) -> tuple[str, str, str]:
    """alice and bob ready; ``customer`` writes ``first`` to group:support; the offered
    member accepts. Returns (interaction id, agent, the other member)."""
    await ready(driver, *AGENTS)
    await driver.customer_writes(customer, first, target="group:support")
    await until(driver, "a chat is stored", lambda s: newest(s, "chat") is not None)
    iid = newest(driver.state(), "chat")
    assert iid is not None
    agent = await offered_to(driver, first, AGENTS)
    other = next(m for m in AGENTS if m != agent)
    await driver.member_types(agent, f"accept {iid}")
    await until(driver, f"{agent} owns {iid}", lambda s: interaction(s, iid)["owner"] == agent)
    assert interaction(driver.state(), iid)["state"] == "active"
    return iid, agent, other


async def consult(driver: Driver, iid: str, agent: str, other: str) -> str:
    """The agent consults the other member, who accepts; the consultation's id."""
    await driver.member_types(agent, f"consult @{other}")
    await until(driver, "a consultation is stored", lambda s: newest(s, "consultation"))
    cid = newest(driver.state(), "consultation")
    assert cid is not None
    assert interaction(driver.state(), cid)["parent"] == iid
    await driver.member_received(other, cid)
    await driver.member_types(other, f"accept {cid}")
    await until(
        driver,
        f"{other} consults on {cid}",
        lambda s: parties(s, cid).get(f"@{other}") == ("consultant", True),
    )
    await driver.member_received(agent, "accepted")
    return cid


# --- (a) a customer chat ------------------------------------------------------------------


async def test_customer_chat_both_ways_adp_6_int_2(driver: Driver) -> None:
    """ADP-6 / INT-2: a customer writes to group:support; the offered member accepts and
    customer and agent exchange text both ways."""
    iid, agent, other = await open_chat(driver, "Ann", "hello FIRST-a01 my order is late")
    await driver.customer_received("Ann", "joined")
    await driver.member_types(agent, "AGENT-a02 sorry, checking", interaction=iid)
    seen = await driver.customer_received("Ann", "AGENT-a02")
    assert len(mentioning(seen, "AGENT-a02")) == 1
    await driver.customer_writes("Ann", "CUSTOMER-a03 thanks")
    got = await driver.member_received(agent, "CUSTOMER-a03")
    assert len(mentioning(got, "CUSTOMER-a03")) == 1
    ix = interaction(driver.state(), iid)
    assert (ix["kind"], ix["state"], ix["owner"]) == ("chat", "active", agent)
    assert parties(driver.state(), iid)[f"@{agent}"] == ("owner", True)
    # the other member was not offered the chat once it was taken, nor saw its text
    assert mentioning(await everything(driver, other, "zzprobea"), "CUSTOMER-a03") == []
    assert mentioning(seen, "FIRST-a01") == []  # the customer's own words are not echoed


# --- (b) consult privacy ------------------------------------------------------------------


async def test_consultation_is_private_to_members_con_2(driver: Driver) -> None:
    """CON-2: owner and consultant exchange private text; the customer gets none of it."""
    iid, agent, other = await open_chat(driver, "Ann", "hello FIRST-b01")
    cid = await consult(driver, iid, agent, other)
    await driver.member_types(agent, "SECRET-b02 is this a refund?", interaction=cid)
    await driver.member_received(other, "SECRET-b02")
    await driver.member_types(other, "SECRET-b03 yes, refund it", interaction=cid)
    await driver.member_received(agent, "SECRET-b03")
    await driver.member_types(agent, "PUBLIC-b04 refund on its way", interaction=iid)
    seen = await driver.customer_received("Ann", "PUBLIC-b04")
    assert [line for line in seen if "SECRET" in line] == []
    state = driver.state()
    assert parties(state, cid) == {f"@{agent}": ("owner", True), f"@{other}": ("consultant", True)}
    assert f"@{other}" not in parties(state, iid)
    assert interaction(state, iid)["owner"] == agent


# --- (c) warm transfer --------------------------------------------------------------------


async def test_warm_transfer_after_consultation_trf_1(driver: Driver) -> None:
    """TRF-1: after the consultation, `transfer` hands the chat to the consultant, who owns
    it alone; the customer hears them and the old owner no longer gets the customer."""
    iid, agent, other = await open_chat(driver, "Ann", "hello FIRST-c01")
    await consult(driver, iid, agent, other)
    await driver.member_types(agent, "transfer")
    await until(driver, f"{other} owns {iid}", lambda s: interaction(s, iid)["owner"] == other)
    owners = [w for w, (role, _) in parties(driver.state(), iid).items() if role == "owner"]
    assert owners == [f"@{other}"]
    assert parties(driver.state(), iid)[f"@{other}"] == ("owner", True)
    await driver.member_types(other, "NEW-OWNER-c02 I can help", interaction=iid)
    seen = await driver.customer_received("Ann", "NEW-OWNER-c02")
    assert len(mentioning(seen, "NEW-OWNER-c02")) == 1
    await driver.customer_writes("Ann", "AFTER-c03 great")
    await driver.member_received(other, "AFTER-c03")
    assert mentioning(await everything(driver, agent, "zzprobec"), "AFTER-c03") == []


# --- (d) IM across platforms --------------------------------------------------------------


async def test_im_across_platforms_without_echo_im_1(driver: Driver) -> None:
    """IM-1: alice (driver platform) and chen (console) invite each other with text; each
    invitation reaches the other side and nobody gets their own words back."""
    await ready(driver, "alice")
    await driver.console_types("chen", "ready")
    await until(driver, "chen ready", lambda s: presence(s, "chen") == "ready")
    await driver.member_types("alice", "im @chen IM-TO-CHEN-d01")
    chen = await driver.console_received("chen", "IM-TO-CHEN-d01")
    assert len(mentioning(chen, "IM-TO-CHEN-d01")) == 1
    await driver.console_types("chen", "im @alice IM-TO-ALICE-d02")
    alice = await driver.member_received("alice", "IM-TO-ALICE-d02")
    assert len(mentioning(alice, "IM-TO-ALICE-d02")) == 1
    assert mentioning(alice, "IM-TO-CHEN-d01") == []
    chen = await driver.console_received("chen", "IM-TO-CHEN-d01")
    assert mentioning(chen, "IM-TO-ALICE-d02") == []
    ims = [ix for ix in driver.state()["interactions"] if ix["kind"] == "im"]
    assert [(ix["owner"], ix["state"]) for ix in ims] == [("alice", "offered"), ("chen", "offered")]


async def test_im_accepted_then_messages_both_ways_im_1_im_2(driver: Driver) -> None:
    """IM-1 / IM-2: chen accepts alice's invitation; each side's text reaches the other."""
    await ready(driver, "alice")
    await driver.console_types("chen", "ready")
    await until(driver, "chen ready", lambda s: presence(s, "chen") == "ready")
    await driver.member_types("alice", "im @chen HI-d11")
    await until(driver, "an IM is stored", lambda s: newest(s, "im") is not None)
    iid = newest(driver.state(), "im")
    assert iid is not None
    await driver.console_received("chen", "HI-d11")
    await driver.console_types("chen", f"accept {iid}")
    await driver.member_received("alice", "accepted")
    await driver.member_types("alice", "FROM-ALICE-d12", interaction=iid)
    await driver.console_received("chen", "FROM-ALICE-d12")
    await driver.console_types("chen", f"say {iid} FROM-CHEN-d13")
    alice = await driver.member_received("alice", "FROM-CHEN-d13")
    assert mentioning(alice, "FROM-ALICE-d12") == []
    assert parties(driver.state(), iid) == {"@alice": ("owner", True), "@chen": ("member", True)}


# --- (e) presence -------------------------------------------------------------------------


async def test_platform_presence_moves_group_counts_dir_5_grp_2(driver: Driver) -> None:
    """DIR-5 / GRP-2: a member's platform presence is their backline presence; the group's
    ready count follows it, as stored and as `groups` shows it."""
    await ready(driver, *AGENTS)
    assert available(driver.state(), "support") == 2
    await driver.member_presence("alice", False)
    await until(driver, "alice not ready", lambda s: presence(s, "alice") == "not_ready")
    assert available(driver.state(), "support") == 1
    assert presence(driver.state(), "bob") == "ready"
    await driver.member_types("bob", "status @alice")
    await driver.member_received("bob", "Alice Anders — not ready")
    await driver.member_types("bob", "groups")
    await driver.member_received("bob", "Support — 1 ready")
    await driver.member_presence("alice", True)
    await until(driver, "alice ready again", lambda s: presence(s, "alice") == "ready")
    assert available(driver.state(), "support") == 2
    await driver.member_types("bob", "groups")
    await driver.member_received("bob", "Support — 2 ready")


# --- (f) restart with a live customer -----------------------------------------------------


async def test_restart_keeps_a_live_customer_reachable_adp_6(driver: Driver) -> None:
    """ADP-6: backline stops abruptly with a chat live; after the restart the agent's reply
    reaches the customer before the customer writes again, and the customer's next text
    reaches the agent."""
    iid, agent, _ = await open_chat(driver, "Ann", "hello FIRST-f01")
    await driver.customer_received("Ann", "joined")
    await driver.restart()
    state = driver.state()
    assert (interaction(state, iid)["state"], interaction(state, iid)["owner"]) == (
        "active",
        agent,
    )
    await driver.member_types(agent, "AFTER-RESTART-f02 still here", interaction=iid)
    seen = await driver.customer_received("Ann", "AFTER-RESTART-f02")
    assert len(mentioning(seen, "AFTER-RESTART-f02")) == 1
    await driver.customer_writes("Ann", "CUSTOMER-f03 good")
    got = await driver.member_received(agent, "CUSTOMER-f03")
    assert len(mentioning(got, "CUSTOMER-f03")) == 1


# --- (g) Unsupported ----------------------------------------------------------------------


class PlainOnly:
    """A pretend Matrix adapter that cannot render some messages (urgent ones, or all)."""

    name = "matrix"
    reaches_everyone = False

    def __init__(self, refuses: Callable[[Outgoing], bool]) -> None:
        self.refuses = refuses
        self.shown: list[Outgoing] = []
        self.refused: list[Outgoing] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, batch: Batch) -> None:
        refused = [m for m in batch.messages if self.refuses(m)]
        self.shown += [m for m in batch.messages if not self.refuses(m)]
        if refused:
            self.refused += refused
            raise Unsupported(refused, "no urgent notices here")


async def unsupported_story(tmp_path: Path, adapter: PlainOnly) -> ConsoleDriver:
    """sam raises an urgent message for alice (on matrix and the console)."""
    driver = ConsoleDriver(tmp_path / "backline.db")
    await driver.start()
    assert driver.core is not None
    driver.core.delivery.attach(adapter)
    await driver.console_types("sam", "broadcast --priority urgent --to @alice URGENT-g01 call me")
    return driver


async def test_unsupported_message_reaches_the_member_on_the_console_adp_6_msg_3(
    tmp_path: Path,
) -> None:
    """ADP-6 / MSG-3: what an adapter cannot render becomes a high My Messages note for the
    member, shown on their other platform (the console) with the original text; the
    adapter itself shows the note."""
    matrix = PlainOnly(lambda m: m.say.priority is Priority.URGENT)
    driver = await unsupported_story(tmp_path, matrix)
    try:
        assert driver.core is not None
        assert [(m.address, m.to) for m in matrix.refused] == [("@alice:localhost", "@alice")]
        assert "URGENT-g01" in matrix.refused[0].text
        note = "matrix could not show you a message (no urgent notices here): "
        inbox = snapshot(driver.core.store)["inbox"]
        assert [(m["priority"], m["status"]) for m in inbox["alice"]] == [
            ("high", "new"),
            ("urgent", "new"),
        ]
        assert inbox["alice"][0]["text"].startswith(note)
        assert "URGENT-g01 call me" in inbox["alice"][0]["text"]
        assert set(inbox) == {"alice"}  # nobody else is concerned
        console = await driver.console_received("alice", note)
        assert mentioning(mentioning(console, note), "URGENT-g01 call me")
        assert mentioning(console, "(!)")  # shown with the high marker
        assert [m.say.priority for m in matrix.shown] == [Priority.HIGH]
        assert "URGENT-g01 call me" in matrix.shown[0].text
    finally:
        await driver.stop()


async def test_a_refused_report_is_stored_once_and_shown_on_the_console_adp_6(
    tmp_path: Path,
) -> None:
    """ADP-6: an adapter that refuses everything, the report too: the report is stored once
    (no loop) and still reaches the console."""
    matrix = PlainOnly(lambda m: True)
    driver = await unsupported_story(tmp_path, matrix)
    try:
        assert driver.core is not None
        assert [m.say.priority for m in matrix.refused] == [Priority.URGENT, Priority.HIGH]
        assert matrix.shown == []
        inbox = snapshot(driver.core.store)["inbox"]["alice"]
        assert [m["priority"] for m in inbox] == ["high", "urgent"]
        console = await driver.console_received("alice", "matrix could not show you a message")
        assert len(mentioning(console, "matrix could not show you a message")) == 1
    finally:
        await driver.stop()
