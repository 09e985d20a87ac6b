"""YAML loading that remembers the line of every key, for errors that point at the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.rules.errors import RuleError, RulesInvalid

KeyPath = tuple[str | int, ...]


@dataclass
class Source:
    """A parsed YAML document plus the line (1-based) where each key path starts."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        """Return the line of ``path`` or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def error(self, path: KeyPath, message: str) -> RuleError:
        """Build an error for ``path`` in this file."""
        return RuleError(self.file, self.line(path), dotted(path), message)


def dotted(path: KeyPath) -> str:
    """Render a key path the way users write it: ``groups.support.when_empty``, ``members[2]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_source(path: Path, display: str | None = None) -> Source:
    """Parse ``path``; a syntax error becomes a ``RulesInvalid`` with its line."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesInvalid([RuleError(name, None, "", f"cannot read: {exc.strerror}")]) from exc
    return parse_source(text, name)


def parse_source(text: str, name: str) -> Source:
    """Parse YAML text into a ``Source``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesInvalid([RuleError(name, line, "", f"invalid YAML: {problem}")]) from exc
    source = Source(name, None)
    if node is not None:
        source.lines[()] = node.start_mark.line + 1
        source.data = _construct(node, (), source.lines, name)
    return source


def _construct(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], name: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            # Keys are names as written: `on:` is the key "on", not YAML 1.1's boolean.
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = (*path, key)
            if key in out:
                raise RulesInvalid(
                    [RuleError(name, key_node.start_mark.line + 1, dotted(child), "duplicate key")]
                )
            lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, lines, name)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            items.append(_construct(item, child, lines, name))
        return items
    return _SCALARS.construct_object(node)


_SCALARS = yaml.SafeLoader("")
