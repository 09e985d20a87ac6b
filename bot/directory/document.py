"""Reading a large directory file fast: libyaml's events straight into plain data.

``bot.rules.source`` builds a node tree and remembers the line of every key, which costs
about a minute for 100,000 members. Here the same data is built from the parser's events
without nodes or lines: keys are taken as written (``on`` is the key "on"), scalars are
resolved and constructed as the safe loader does. Anything this reader does not take on
(an anchor or alias, a duplicate key, a collection as a key, a YAML error) raises
``NeedsLines``, and the caller reads the file the line-exact way, which also reports each
problem with its line.

A generated directory writes each member as one JSON object a line (``  - {"id": ...}``).
Such a line means the same in YAML as in JSON as long as it has no escape, no float, no
duplicate key and no character YAML reads differently; ``json`` reads those lines ten
times faster than libyaml's events, and each is handed to the YAML pass as one tagged
scalar standing in its place. Should a stand-in land anywhere but where the object stood
(inside a block scalar, say), the document is read again without them.
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import re
from typing import Any, cast

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
    prepared, runs = json_lines(text)
    if runs:
        try:
            return _read(prepared, runs)
        except (NeedsLines, _Misplaced):
            pass  # read it again as written: the errors, if any, are the file's own
    return _read(text, [])


class _Misplaced(Exception):
    """A JSON line's stand-in was not read as the value the object was."""


STAND_IN = "!backline.json-line"
_SAFE = (
    r"[\x20-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# A line of spaces, ``- `` and a JSON object, every character one YAML reads as JSON does.
_JSON_LINE = re.compile(rf"^( *)- (\{{{_SAFE}*\}})$", re.MULTILINE)


class _NotPlain(ValueError):
    """A JSON value that YAML would read differently (a float, a duplicate key)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _NotPlain("duplicate key")
    return mapping


def _no_float(text: str) -> Any:
    raise _NotPlain(f"float {text}")


_JSON = json.JSONDecoder(object_pairs_hook=_unique, parse_float=_no_float, parse_constant=_no_float)
_SCAN: Any = json.scanner.make_scanner(cast(Any, _JSON))  # ``decode`` less its Python frames


def _one_object(text: str) -> Any:
    """The JSON object ``text`` holds (it starts with ``{`` and ends with ``}``)."""
    value, end = _SCAN(text, 0)
    if end != len(text):
        raise _NotPlain("more than one value")
    return value


def json_lines(text: str) -> tuple[str, list[list[Any]]]:
    """``text`` with each run of ``- {JSON}`` lines that YAML reads alike made one stand-in.

    A run is consecutive such lines at one indentation: entries of one sequence, which
    the YAML pass then reads as one scalar, not 100,000. The stand-in ``- !backline.json-line
    N`` names the Nth run of objects returned. A line keeps its text when it has a
    backslash, a tab or control character, a line or paragraph separator, a byte-order
    mark, a float or a duplicate key.
    """
    if STAND_IN in text:
        return text, []
    runs: list[list[Any]] = []
    pieces: list[str] = []
    run: list[Any] = []
    kept = start = end = 0  # text[kept:] is not in pieces yet; the run is text[start:end]
    indent = ""
    for line in _JSON_LINE.finditer(text):
        value = _json_object(line.group(2))
        if value is _NOT_TAKEN:
            continue
        if run and (line.start() != end + 1 or line.group(1) != indent):
            pieces += (text[kept:start], f"{indent}- {STAND_IN} {len(runs)}")
            runs.append(run)
            run, kept = [], end
        if not run:
            start, indent = line.start(), line.group(1)
        run.append(value)
        end = line.end()
    if run:
        pieces += (text[kept:start], f"{indent}- {STAND_IN} {len(runs)}")
        runs.append(run)
        kept = end
    pieces.append(text[kept:])
    return "".join(pieces), runs


_NOT_TAKEN: Any = object()


def _json_object(text: str) -> Any:
    """The object of a ``- {JSON}`` line's JSON, if YAML reads it alike; else ``_NOT_TAKEN``."""
    try:
        return _one_object(text)
    except (ValueError, StopIteration):  # StopIteration: no JSON value at all
        return _NOT_TAKEN


def _read(text: str, runs: list[list[Any]]) -> Any:
    try:
        return _build(yaml.parse(text, Loader=_LOADER), runs)
    except yaml.YAMLError as exc:
        raise NeedsLines(str(exc)) from exc


def _build(events: Any, runs: list[list[Any]]) -> Any:
    """One pass over the events with a stack of open collections (kept tight: 10⁶ events)."""
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # for each open mapping its pending key, _NO_KEY between pairs
    result: Any = None
    documents: list[Any] = []
    placed = 0
    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.tag == STAND_IN and runs:
                _stand_in(event, stack, runs, placed)
                placed += 1
                continue
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
    if placed != len(runs):
        raise _Misplaced(f"{len(runs) - placed} runs of JSON lines were not read as values")
    return result


def _stand_in(event: Any, stack: list[Any], runs: list[list[Any]], n: int) -> None:
    """The objects a stand-in names, as the next entries of its sequence, in order."""
    if not stack or type(stack[-1]) is not list or event.value != str(n):
        raise _Misplaced("a stand-in of JSON lines out of place")
    stack[-1].extend(runs[n])


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
