"""Reading a large directory file fast: libyaml's events straight into plain data.

``bot.rules.source`` builds a node tree and remembers the line of every key, which costs
about a minute for 100,000 members. Here the same data is built from the parser's events
without nodes or lines: keys are taken as written (``on`` is the key "on"), scalars are
resolved and constructed as the safe loader does. Anything this reader does not take on
(an anchor or alias, a duplicate key, a collection as a key, a YAML error) raises
``NeedsLines``, and the caller reads the file the line-exact way, which also reports each
problem with its line.
"""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NO_KEY: Any = object()


class NeedsLines(Exception):
    """The fast reader cannot build this document; read it with lines instead."""


def digest(content: bytes) -> str:
    """The content hash that tells an unchanged directory file from a changed one."""
    return hashlib.sha256(content).hexdigest()


def read_document(text: str) -> Any:
    """The document's data, exactly as ``parse_source(text, ...).data`` would build it."""
    try:
        return _build(yaml.parse(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        raise NeedsLines(str(exc)) from exc


def _build(events: Any) -> Any:
    """One pass over the events with a stack of open collections (kept tight: 10⁶ events)."""
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # for each open mapping its pending key, _NO_KEY between pairs
    result: Any = None
    documents: list[Any] = []
    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            value = _scalar_or_key(event, stack, keys)
            if value is _NO_KEY:
                continue
        elif kind in _OPEN:
            _open(event, stack, keys)
            continue
        elif kind in _CLOSE:
            value = stack.pop()
            keys.pop()
        else:
            _other(event, documents)
            continue
        if not stack:
            result = value
        elif type(stack[-1]) is list:
            stack[-1].append(value)
        else:
            stack[-1][keys[-1]] = value
            keys[-1] = _NO_KEY
    return result


def _scalar_or_key(event: Any, stack: list[Any], keys: list[Any]) -> Any:
    """The scalar's value, or ``_NO_KEY`` once it was taken as the open mapping's key."""
    if event.anchor is not None:
        raise NeedsLines("anchors and aliases")
    if stack and keys[-1] is _NO_KEY and type(stack[-1]) is dict:
        key = str(event.value)
        if key in stack[-1]:
            raise NeedsLines(f"duplicate key {key!r}")
        keys[-1] = key
        return _NO_KEY
    return _scalar(event)


def _open(event: Any, stack: list[Any], keys: list[Any]) -> None:
    if event.anchor is not None or (stack and keys[-1] is _NO_KEY and type(stack[-1]) is dict):
        raise NeedsLines("anchors, aliases or a collection as a key")
    stack.append({} if type(event) is yaml.MappingStartEvent else [])
    keys.append(_NO_KEY)


def _other(event: Any, documents: list[Any]) -> None:
    if type(event) is yaml.AliasEvent:
        raise NeedsLines("anchors and aliases")
    if type(event) is yaml.DocumentStartEvent:
        documents.append(event)
        if len(documents) > 1:
            raise NeedsLines("more than one document")


def _scalar(event: Any) -> Any:
    value: str = event.value
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0] or not value or value[0] not in _IMPLICIT:
            return value
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == _STR:
        return value
    construct = _CONSTRUCTOR.yaml_constructors.get(tag)
    if construct is None:
        raise NeedsLines(f"unknown tag {tag}")
    return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, value))
