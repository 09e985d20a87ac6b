"""Pure conversions for the console: script lines in, transcript lines out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.port import Priority, Say, parse_duration


@dataclass(frozen=True)
class Typed:
    """A member types a command (``@alice: ready``, or a bare line after ``as @alice``)."""

    member: str | None
    text: str


@dataclass(frozen=True)
class SwitchTo:
    """``as @bob``: later bare lines are typed by bob."""

    member: str


@dataclass(frozen=True)
class Tick:
    """``tick 30s``: advance the fake clock."""

    seconds: float


@dataclass(frozen=True)
class Sim:
    """A customer acts: ``sim chat Ann group:support hello``, ``sim say``, ``sim hangup``."""

    action: str
    name: str
    target: str = ""
    text: str = ""


@dataclass(frozen=True)
class Blank:
    """An empty line or a ``# comment``."""


Line = Typed | SwitchTo | Tick | Sim | Blank

_TYPED = re.compile(r"^@(?P<member>[\w.-]+):\s*(?P<text>.*)$")
_AS = re.compile(r"^as\s+@?(?P<member>[\w.-]+)\s*$")
_TICK = re.compile(r"^tick\s+(?P<duration>\S+)\s*$")
FORMS = "`@member: COMMAND`, `as @member`, `tick DURATION`, `sim …` or `# comment`"
SIM_USAGE = {
    "chat": "sim chat NAME TARGET TEXT",
    "call": "sim call NAME TARGET",
    "email": "sim email NAME TARGET SUBJECT",
    "workitem": "sim workitem NAME TARGET TITLE",
    "say": "sim say NAME TEXT",
    "hangup": "sim hangup NAME",
}


class ScriptError(ValueError):
    """A line the console cannot read."""


def parse_line(raw: str) -> Line:
    """Read one console line; raises ``ScriptError`` for malformed directives."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return Blank()
    if m := _TYPED.match(line):
        if not m["text"].strip():
            raise ScriptError(f"@{m['member']}: typed nothing; expected a command after the colon")
        return Typed(m["member"].lower(), m["text"].strip())
    if m := _AS.match(line):
        return SwitchTo(m["member"].lower())
    if m := _TICK.match(line):
        try:
            return Tick(parse_duration(m["duration"]))
        except ValueError as exc:
            raise ScriptError(f"tick: {exc}") from None
    if line.split()[0] == "sim":
        return parse_sim(line)
    if line.split()[0] in ("as", "tick"):
        raise ScriptError(f"malformed `{line.split()[0]}` line; expected {FORMS}")
    return Typed(None, line)


def parse_sim(line: str) -> Sim:
    """A customer action; the usage of each is in ``SIM_USAGE``."""
    words = line.split(None, 4)
    action = words[1].lower() if len(words) > 1 else ""
    usage = SIM_USAGE.get(action)
    if usage is None:
        raise ScriptError(f"unknown sim action '{action}'; use one of: {', '.join(SIM_USAGE)}")
    needs = len(usage.split()) - 1  # words after "sim" the usage names
    if action in ("say",):
        parts = line.split(None, 3)
        if len(parts) < 4:
            raise ScriptError(f"usage: {usage}")
        return Sim(action, parts[2], text=parts[3])
    if len(words) < needs + 1 or (action in ("call", "hangup") and len(words) > needs + 1):
        raise ScriptError(f"usage: {usage}")
    target = words[3] if len(words) > 3 else ""
    return Sim(action, words[2], target, words[4] if len(words) > 4 else "")


def parse_script(text: str) -> list[Line]:
    """Parse a whole script; every bad line is reported with its number."""
    lines, errors = [], []
    chosen = False  # after `as @bob`, bare lines are bob's
    for number, raw in enumerate(text.splitlines(), 1):
        try:
            line = parse_line(raw)
        except ScriptError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        chosen = chosen or isinstance(line, SwitchTo)
        if isinstance(line, Typed) and line.member is None and not chosen:
            errors.append(f"line {number}: '{raw.strip()}' says nobody typed it; expected {FORMS}")
            continue
        lines.append(line)
    if errors:
        raise ScriptError("\n".join(errors))
    return lines


MARKERS = {Priority.LOW: "", Priority.NORMAL: "", Priority.HIGH: "(!) ", Priority.URGENT: "(!!) "}


def render(message: Say) -> list[str]:
    """A delivered message as transcript lines: ``[@bob] text``, one per text line."""
    tag = f"[{message.to}]"
    marker = MARKERS[message.priority] + (
        f"({message.interaction}) " if message.interaction else ""
    )
    return [f"{tag} {marker}{line}".rstrip() for line in message.text.splitlines() or [""]]
