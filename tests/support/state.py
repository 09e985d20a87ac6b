"""Reading what scenario tests check: stored interactions, parties, presence, counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
