"""The address book (INT-2, OPS-2): outside parties keyed by platform and full address.

Two customers whose names or local parts agree get distinct party names; the mapping is in
the store, so after a restart a member's reply reaches the right address before the
customer writes again; an arrival that is rolled back leaves no trace of its address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.core import Core
from bot.errors import CommandError, NotFound
from bot.port import Address, Port
from bot.state import snapshot
from tests.support.console import RULES, Recording

CAROL_A = Address("xmpp", "carol@a.test", via="support@a.test")
CAROL_B = Address("xmpp", "carol@b.test", via="support@b.test")


class Running:
    """A core on the shipped rules with a recording xmpp adapter attached."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.open()

    def open(self) -> None:
        """A new core on the database, as after a start."""
        self.core = Core.open(RULES, self.database, FakeClock())
        self.xmpp = Recording("xmpp")
        self.core.delivery.attach(self.xmpp)
        self.port = Port(self.core, "xmpp")
        self.console = Port(self.core, "console")

    def restart(self) -> None:
        """Close the store and open a new core on the same file."""
        self.core.store.close()
        self.open()

    def to_customers(self) -> list[tuple[str, str, str, str]]:
        """``(recipient, address, via, text)`` of every xmpp message to a customer."""
        return [
            (m.to, m.address, m.via, m.text)
            for batch in self.xmpp.batches
            for m in batch.messages
            if m.to_customer
        ]

    def book(self) -> list[tuple[str, str, str, str, str]]:
        """The stored address book: ``(platform, address, name, display, via)``."""
        rows = self.core.store.conn.execute(
            "SELECT platform, address, name, display, via FROM addresses ORDER BY name"
        )
        return rows.fetchall()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    driver = Running(tmp_path / "backline.db")
    yield driver
    driver.core.store.close()


def customers(running: Running) -> dict[str, str]:
    """``{interaction id: customer party}`` of every stored interaction with a customer."""
    return {
        ix["id"]: p["who"]
        for ix in snapshot(running.core.store)["interactions"]
        for p in ix["parties"]
        if p["role"] == "customer"
    }


async def test_customers_whose_local_parts_agree_get_distinct_party_names_int_2(
    running: Running,
) -> None:
    """INT-2: carol@a.test and carol@b.test are two customers: customer:carol and
    customer:carol2, each reached at their own address and from where they wrote to."""
    await running.console.command("alice", "ready")
    first = await running.port.customer_arrived(CAROL_A, "chat", "@alice", "hi from a")
    second = await running.port.customer_arrived(CAROL_B, "chat", "group:support", "hi from b")
    assert customers(running) == {first: "customer:carol", second: "customer:carol2"}
    assert running.port.customer_interaction(CAROL_A) == first
    assert running.port.customer_interaction(CAROL_B) == second
    assert running.book() == [
        ("xmpp", "carol@a.test", "carol", "carol", "support@a.test"),
        ("xmpp", "carol@b.test", "carol2", "carol2", "support@b.test"),
    ]

    running.xmpp.clear()
    await running.console.command("alice", f"accept {first}")
    await running.console.command("alice", f"say {first} hello carol at a")
    await running.port.customer_said(CAROL_B, "still waiting")
    assert running.to_customers() == [
        ("customer:carol", "carol@a.test", "support@a.test", "Alice Anders joined."),
        ("customer:carol", "carol@a.test", "support@a.test", "Alice Anders: hello carol at a"),
    ]
    view = running.port.interaction_view(second, "alice")
    assert view is not None  # alice still has room for a chat: the waiting one rings her (GRP-3)
    assert (view.customer, view.state, view.offered) == ("carol2", "offered", True)


async def test_a_display_name_taken_on_another_platform_gets_its_own_party_name_int_2(
    running: Running,
) -> None:
    """INT-2: "Ann" on the console and "Ann" on xmpp are different people."""
    await running.console.command("alice", "ready")
    on_console = await running.console.customer_arrived(
        Address("console", "Ann"), "chat", "@alice", display="Ann"
    )
    on_xmpp = await running.port.customer_arrived(
        Address("xmpp", "ann@c.test"), "chat", "group:support", display="Ann"
    )
    assert customers(running) == {on_console: "customer:Ann", on_xmpp: "customer:Ann2"}
    assert [(p, a, n, d) for p, a, n, d, _ in running.book()] == [
        ("console", "Ann", "Ann", "Ann"),
        ("xmpp", "ann@c.test", "Ann2", "Ann"),
    ]
    # the same address string on another platform is yet another customer
    with pytest.raises(CommandError, match="Customer Ann is already in"):
        await running.console.customer_arrived(Address("console", "Ann"), "chat", "@alice")
    again = await running.port.customer_arrived(Address("xmpp", "Ann"), "email", "@alice")
    assert customers(running)[again] == "customer:Ann3"


async def test_the_mapping_survives_reopening_the_store_ops_2(running: Running) -> None:
    """OPS-2: after a restart, alice's reply reaches carol@b.test (not carol@a.test) before
    either writes again, and each customer's next message finds their own interaction."""
    await running.console.command("alice", "ready")
    first = await running.port.customer_arrived(CAROL_A, "chat", "@alice", "hi from a")
    await running.console.command("alice", f"accept {first}")
    await running.console.command("alice", "end")
    await running.console.command("alice", "done")
    second = await running.port.customer_arrived(CAROL_B, "chat", "@alice", "hi from b")
    await running.console.command("alice", f"accept {second}")
    book = running.book()

    running.restart()
    assert running.book() == book
    assert running.port.customer_interaction(CAROL_A) is None  # carol at a.test is done
    assert running.port.customer_interaction(CAROL_B) == second
    await running.console.command("alice", f"say {second} back after a restart")
    assert running.to_customers() == [
        ("customer:carol2", "carol@b.test", "support@b.test", "Alice Anders: back after a restart")
    ]
    await running.port.customer_said(CAROL_B, "thanks")
    stored = [e.data for e in running.core.store.events(kind="said") if e.subject == second]
    assert stored[-1]["who"] == "customer:carol2"
    assert stored[-1]["text"] == "thanks"
    # a returning customer keeps their party name; a new one does not take it
    third = await running.port.customer_arrived(CAROL_A, "chat", "group:support")
    fourth = await running.port.customer_arrived(
        Address("xmpp", "carol@c.test"), "chat", "group:support"
    )
    assert (customers(running)[third], customers(running)[fourth]) == (
        "customer:carol",
        "customer:carol3",
    )


async def test_a_new_via_is_kept_and_replies_come_from_it_ops_2(running: Running) -> None:
    """A customer who writes to another routing address is answered from there, also after
    a restart; the via is not part of who they are."""
    await running.console.command("alice", "ready")
    iid = await running.port.customer_arrived(CAROL_A, "chat", "@alice", "hi")
    await running.console.command("alice", f"accept {iid}")
    moved = Address("xmpp", "carol@a.test", via="sales@a.test")
    await running.port.customer_said(moved, "over here now")
    assert running.port.customer_interaction(moved) == iid
    running.restart()
    await running.console.command("alice", f"say {iid} seen")
    assert running.to_customers() == [
        ("customer:carol", "carol@a.test", "sales@a.test", "Alice Anders: seen")
    ]
    assert [(n, v) for _, _, n, _, v in running.book()] == [("carol", "sales@a.test")]


async def test_a_rolled_back_arrival_leaves_no_row_int_2(running: Running) -> None:
    """INT-2 / OPS-2: an arrival refused inside its transaction (an unknown target) adds
    nothing to the book, in the store or in memory: the name is still free afterwards."""
    before = snapshot(running.core.store)
    with pytest.raises(NotFound):
        await running.port.customer_arrived(CAROL_A, "chat", "group:nope", "hello?")
    assert running.book() == []
    assert snapshot(running.core.store) == before
    assert running.port.customer_interaction(CAROL_A) is None

    iid = await running.port.customer_arrived(CAROL_B, "chat", "group:support", "hello?")
    assert customers(running) == {iid: "customer:carol"}
    assert running.book() == [("xmpp", "carol@b.test", "carol", "carol", "support@b.test")]
    running.restart()
    assert running.book() == [("xmpp", "carol@b.test", "carol", "carol", "support@b.test")]


async def test_a_rolled_back_via_change_is_forgotten_too_ops_2(running: Running) -> None:
    """A customer with nothing live who writes from a new via is refused: the via stays."""
    iid = await running.port.customer_arrived(CAROL_A, "chat", "group:support", "hi")
    await running.port.customer_left(CAROL_A)
    assert running.port.customer_interaction(CAROL_A) is None
    moved = Address("xmpp", "carol@a.test", via="sales@a.test")
    with pytest.raises(CommandError):
        await running.port.customer_said(moved, "anyone?")
    assert [(n, v) for _, _, n, _, v in running.book()] == [("carol", "support@a.test")]
    assert customers(running) == {iid: "customer:carol"}
    # in memory too: carol's next chat (no via given) is greeted from support@a.test
    running.xmpp.clear()
    await running.port.customer_arrived(Address("xmpp", "carol@a.test"), "chat", "@alice")
    assert {(to, via) for to, _, via, _ in running.to_customers()} == {
        ("customer:carol", "support@a.test")
    }
