"""Trigger rules (RUL-3): ``on: EVENT``, ``when: {field: value}``, ``do: [ACTION…]``.

Events, fields and actions are a fixed, documented set (``rules/README.md``); a trigger
file naming anything else is rejected on load with its file, line and key.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.rules.errors import RuleError, RulesInvalid
from bot.rules.source import KeyPath, Source, load_source

EVENTS = {
    "interaction.created": "a customer's interaction arrived (before routing)",
    "interaction.accepted": "a member accepted a customer's interaction",
    "interaction.held": "a call was put on hold",
    "interaction.hold_too_long": "a call stayed on hold longer than `hold.escalate_after`",
    "interaction.transferred": "ownership moved to another member",
    "interaction.ended": "a customer interaction ended",
}
FIELDS = {
    "id": "the interaction id (i7)",
    "kind": "voice, chat, email or workitem",
    "state": "the machine state",
    "customer": "the customer's name",
    "owner": "the owner as @member ('' if none)",
    "target": "what it was routed to (group:support)",
    "hold_limit": "`hold.escalate_after` as text (2m)",
}
ACTIONS = {
    "say": "text to the customer, from the system",
    "notify": "{to: owner | supervisors | @member | group:NAME, text}: a message to members",
    "system_message": "{to, text, priority}: a My Messages entry for members (MSG-2)",
    "escalate": "{text}: to the supervisors of the owner's groups, as a high-priority message",
    "transfer": "TARGET: transfer it (instantly) on the owner's behalf",
    "set": "{field: value}: set case data fields",
}
TOP_KEYS = {"name", "on", "when", "do"}


def render_tables() -> str:
    """The events, fields and actions as markdown tables, for ``rules/README.md``."""
    out = []
    for title, rows in (("event", EVENTS), ("field", FIELDS), ("action", ACTIONS)):
        out += [f"| {title} | meaning |", "|---|---|"]
        out += [f"| `{name}` | {meaning} |" for name, meaning in rows.items()]
        out.append("")
    out.append("Texts may use any field as `{field}`; `when` may also test `case.NAME`.")
    return "\n".join(out)


@dataclass(frozen=True)
class Trigger:
    """One validated trigger rule."""

    name: str
    on: str
    when: dict[str, Any]
    do: tuple[tuple[str, Any], ...]

    def matches(self, values: dict[str, str]) -> bool:
        """Whether every ``when`` condition holds (a list means any of its values)."""
        for key, wanted in self.when.items():
            options = wanted if isinstance(wanted, list) else [wanted]
            if values.get(key) not in [str(o) for o in options]:
                return False
        return True


def load_triggers(folder: Path) -> list[Trigger]:
    """Every trigger in ``folder/*.yaml`` (none if the folder is missing), validated."""
    triggers: list[Trigger] = []
    errors: list[RuleError] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            triggers += _validate(load_source(path))
        except RulesInvalid as exc:
            errors += exc.errors
    if errors:
        raise RulesInvalid(errors)
    return triggers


def _validate(source: Source) -> list[Trigger]:
    errors: list[RuleError] = []

    def fail(path: KeyPath, message: str) -> None:
        errors.append(source.error(path, message))

    doc = source.data or []
    if not isinstance(doc, list):
        raise RulesInvalid([source.error((), "expected a list of triggers")])
    out = []
    for index, entry in enumerate(doc):
        path: KeyPath = (index,)
        if not isinstance(entry, dict):
            fail(path, "expected a mapping with on, when, do")
            continue
        for key in entry:
            if key not in TOP_KEYS:
                fail((*path, key), f"unknown key; expected one of: {', '.join(sorted(TOP_KEYS))}")
        if entry.get("on") not in EVENTS:
            fail((*path, "on"), f"unknown event; expected one of: {', '.join(EVENTS)}")
        when = entry.get("when") or {}
        if not isinstance(when, dict):
            fail((*path, "when"), "expected a mapping of field: value")
            when = {}
        for key in when:
            if key not in FIELDS and not key.startswith("case."):
                fail((*path, "when", key), f"unknown field; expected one of: {', '.join(FIELDS)}")
        actions = entry.get("do")
        if not isinstance(actions, list) or not actions:
            fail((*path, "do"), "expected a list of actions")
            actions = []
        steps = [_action(a, (*path, "do", i), fail) for i, a in enumerate(actions)]
        name = str(entry.get("name", f"{source.file}[{index}]"))
        out.append(Trigger(name, str(entry.get("on")), when, tuple(s for s in steps if s)))
    if errors:
        raise RulesInvalid(errors)
    return out


def _action(value: Any, path: KeyPath, fail: Any) -> tuple[str, Any] | None:
    if not isinstance(value, dict) or len(value) != 1:
        fail(path, f"expected one action of: {', '.join(ACTIONS)}")
        return None
    name, arg = next(iter(value.items()))
    if name not in ACTIONS:
        fail((*path, name), f"unknown action; expected one of: {', '.join(ACTIONS)}")
        return None
    texts: list[str] = []
    if name in ("say", "transfer"):
        if not isinstance(arg, str) or not arg:
            fail((*path, name), "expected text")
            return None
        texts = [arg]
    elif name == "set":
        if not isinstance(arg, dict) or not arg:
            fail((*path, name), "expected a mapping of field: value")
            return None
        texts = [str(v) for v in arg.values()]
    else:
        if not isinstance(arg, dict) or not isinstance(arg.get("text"), str):
            fail((*path, name), "expected a mapping with text")
            return None
        if name != "escalate" and not isinstance(arg.get("to"), str):
            fail((*path, name, "to"), "expected owner, supervisors, @member or group:NAME")
        texts = [arg["text"]]
    for text in texts:
        for _, field, _, _ in string.Formatter().parse(text):
            if field is not None and field not in FIELDS:
                fail((*path, name), f"unknown field {{{field}}}; known: {', '.join(FIELDS)}")
    return name, arg
