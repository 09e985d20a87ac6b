"""Reading what scenario tests check: stored interactions, parties, presence, counts.

Everything here reads the store (``bot.state.snapshot``, as ``backline state`` prints it)
or the adapters' read model (``Port.interaction_view``), never the engine's memory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.port import InteractionView, Port
from bot.state import snapshot
from tests.support.console import Console, copy_rules


def edited_policy(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped rules with one policy line changed."""
    rules = copy_rules(tmp_path)
    policy = rules / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert old in text
    policy.write_text(text.replace(old, new, 1), encoding="utf-8")
    return rules


def stored(console: Console, iid: str) -> dict[str, Any]:
    """The stored snapshot of one interaction."""
    found = [ix for ix in snapshot(console.core.store)["interactions"] if ix["id"] == iid]
    assert found, f"{iid} is not stored"
    return found[0]


def live(console: Console) -> list[str]:
    """Ids of the stored interactions not yet closed, oldest first."""
    return [
        ix["id"] for ix in snapshot(console.core.store)["interactions"] if ix["state"] != "closed"
    ]


def view(console: Console, iid: str, viewer: str | None = None) -> InteractionView:
    """Interaction ``iid`` as the console's read model shows it to ``viewer`` (None: shared)."""
    found = Port(console.core, "console").interaction_view(iid, viewer)
    assert found is not None, f"{iid} is not stored"
    return found


def live_view(console: Console, iid: str, viewer: str | None = None) -> InteractionView:
    """The read model of ``iid``, which must not be closed yet."""
    found = view(console, iid, viewer)
    assert found.live, f"{iid} is closed"
    return found


def ringing(console: Console, iid: str) -> bool:
    """Whether an offer of live ``iid`` is out (ringing someone or waiting for someone)."""
    return live_view(console, iid).offer_expires is not None


def rung(console: Console, iid: str) -> set[str]:
    """The members an offer of live ``iid`` rings now, as each of them sees it."""
    members = [m["id"] for m in snapshot(console.core.store)["members"]]
    return {m for m in members if live_view(console, iid, m).offered}


def mode_of(console: Console, iid: str) -> str:
    """A live consultation's mode (voice, chat, im), as its label says."""
    label = live_view(console, iid).label
    found = re.fullmatch(rf"{iid} (\w+) consultation about i\d+", label)
    assert found, f"{iid} is not a consultation: {label}"
    return found[1]


def case(console: Console, iid: str) -> dict[str, str]:
    """The case data of live ``iid``."""
    return dict(live_view(console, iid).case)


def muted(console: Console, iid: str) -> set[str]:
    """The parties of ``iid`` stored as muted."""
    rows = console.core.store.conn.execute(
        "SELECT who FROM parties WHERE interaction_id = ? AND muted", (iid,)
    )
    return {who for (who,) in rows}


def parties(console: Console, iid: str) -> dict[str, tuple[str, bool]]:
    """``{who: (role, connected)}`` of one stored interaction."""
    return {p["who"]: (p["role"], p["connected"]) for p in stored(console, iid)["parties"]}


def owners(console: Console, iid: str) -> list[str]:
    """Parties with the owner role (exactly one while live)."""
    return [who for who, (role, _) in parties(console, iid).items() if role == "owner"]


def presence(console: Console, member: str) -> str:
    """The presence others see for ``member``, as stored."""
    members = snapshot(console.core.store)["members"]
    return next(m["presence"] for m in members if m["id"] == member)


def available(console: Console, group: str) -> int:
    """The stored ready count of a group."""
    groups = snapshot(console.core.store)["groups"]
    return next(g["available"] for g in groups if g["id"] == group)


def mentioning(lines: list[str], token: str) -> list[str]:
    """The lines that contain ``token``."""
    return [line for line in lines if token in line]


def assert_never_received(console: Console, who: str, *tokens: str) -> None:
    """Nothing ever delivered to ``who`` contains any of ``tokens``."""
    lines = console.received(who, since_mark=False)
    leaked = [line for line in lines if any(t in line for t in tokens)]
    assert leaked == [], f"{who} saw private content: {leaked}"


def presences(console: Console) -> dict[str, str]:
    """Every member's presence as others see it, as stored."""
    return {m["id"]: m["presence"] for m in snapshot(console.core.store)["members"]}


def counts(console: Console) -> dict[str, int]:
    """Every group's stored ready count."""
    return {g["id"]: g["available"] for g in snapshot(console.core.store)["groups"]}


def assert_one_owner(console: Console, iid: str, owner: str) -> None:
    """TRF-2: the stored owner is ``owner``, the only party with the owner role, connected."""
    ix = stored(console, iid)
    owning = [(p["who"], p["connected"]) for p in ix["parties"] if p["role"] == "owner"]
    assert (ix["owner"], owning) == (owner, [(f"@{owner}", True)])


async def call_from_ann(console: Console, *ready: str) -> None:
    """Alice owns i1, a voice call with Ann; ``ready`` members are ready."""
    await console.run(
        "@alice: ready\n"
        + "".join(f"@{m}: ready\n" for m in ready)
        + "sim call Ann @alice\n@alice: accept i1"
    )
    assert_one_owner(console, "i1", "alice")


async def chat_with_ann(console: Console, *ready: str) -> None:
    """Alice owns i1, a chat with Ann with a short transcript; ``ready`` members are ready."""
    await console.run(
        "@alice: ready\n"
        + "".join(f"@{m}: ready\n" for m in ready)
        + """
        sim chat Ann @alice hello I need help
        @alice: accept i1
        sim say Ann order 42 is late
        @alice: say sorry Ann, checking order 42
        """
    )
    assert_one_owner(console, "i1", "alice")
