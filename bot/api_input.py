"""What ``POST /api/interactions`` accepts: JSON only, bounded in size, depth and every field.

Each refusal is a ``Refused`` with the HTTP status and a sentence that says what is wrong;
user data in it is clipped (``clip``), so neither the reply nor a log line can grow with it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, NoReturn

from aiohttp import web

MAX_BODY = 64 * 1024  # bytes
MAX_DEPTH = 16  # nested objects and arrays; a valid body needs 2
MAX_NAME = 200  # characters: customer, target, case keys
MAX_TEXT = 10_000  # characters
MAX_CASE_KEYS = 50
MAX_CASE_BYTES = 8 * 1024  # UTF-8 bytes of every case key and value together
CLIP = 80  # characters of user data shown in an error or a log line

API_KINDS = ("chat", "email", "workitem")
FIELDS = ("kind", "customer", "target", "text", "case")
NAMES = ("customer", "target")
# Bidirectional embeddings, overrides, isolates and marks: they make a name read differently.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
CONTROL = frozenset({"Cc", "Zl", "Zp"})  # C0/C1 controls and line/paragraph separators

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(Exception):
    """A request the API does not take: the HTTP status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Arrival:
    """A validated ``POST /api/interactions`` body."""

    kind: str
    customer: str
    target: str
    text: str = ""
    case: dict[str, str] = field(default_factory=dict)


def clip(text: str, limit: int = CLIP) -> str:
    """User data fit for an error or a log line: at most ``limit`` characters, escaped."""
    cut = text[:limit]
    shown = cut if cut.isprintable() else repr(cut)[1:-1]
    return shown + (f"… ({len(text)} characters)" if len(text) > limit else "")


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The body of a JSON request: 415 for another media type, 413 beyond ``limit`` bytes."""
    if request.content_type != "application/json":
        raise Refused(415, f"send application/json, not {clip(request.content_type)}")
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise Refused(415, f"send JSON as UTF-8, not {clip(charset)}")
    too_big = Refused(413, f"the body is over {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


def decode(body: bytes) -> Any:
    """Strict JSON: UTF-8 without surrogates, ``MAX_DEPTH`` levels, no duplicate keys or NaN."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    depth = nesting(text)
    if depth > MAX_DEPTH:
        raise Refused(400, f"body nests {depth} levels deep; at most {MAX_DEPTH}")
    try:
        data = json.loads(text, object_pairs_hook=_unique, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        raise Refused(400, f"body is not JSON: {exc}") from None
    except ValueError:  # an integer of thousands of digits
        raise Refused(400, "body is not usable JSON: a number is too long") from None
    if any(_SURROGATE.search(s) for s in _strings(data)):
        raise Refused(400, "body holds a lone surrogate (e.g. \\ud800): not valid Unicode")
    return data


def nesting(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings not counted)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):
        twice = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise Refused(400, f"body repeats the key {clip(twice)}")
    return data


def _not_a_number(name: str) -> NoReturn:
    raise Refused(400, f"body is not JSON: {name} is not a JSON number")


def _strings(value: Any) -> Iterator[str]:
    """Every key and string in decoded JSON (its depth is bounded by ``MAX_DEPTH``)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def parse_request(data: Any) -> Arrival:
    """A decoded body as an ``Arrival``: 400 for its shape and types, 422 for its limits."""
    if not isinstance(data, dict):
        raise Refused(400, "body must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        names = ", ".join(clip(k, 40) for k in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise Refused(400, f"unknown field(s): {names}; known: {', '.join(sorted(FIELDS))}")
    for key in ("kind", *NAMES):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise Refused(400, f"'{key}' is required and must be a non-empty string")
    if data["kind"] not in API_KINDS:
        raise Refused(400, f"'kind' must be one of: {', '.join(API_KINDS)} (voice arrives by SIP)")
    text, case = data.get("text", ""), data.get("case", {})
    if not isinstance(text, str):
        raise Refused(400, "'text' must be a string")
    if not isinstance(case, dict) or not all(isinstance(v, str) for v in case.values()):
        raise Refused(400, "'case' must be an object of string values")
    for key in NAMES:
        check_name(f"'{key}'", data[key])
    if len(text) > MAX_TEXT:
        raise Refused(422, f"'text' has {len(text)} characters; at most {MAX_TEXT}")
    check_case(case)
    return Arrival(data["kind"], data["customer"], data["target"], text, case)


def check_name(what: str, name: str) -> None:
    """A name: at most ``MAX_NAME`` characters, no control or bidirectional-override ones."""
    if len(name) > MAX_NAME:
        fail(f"{what} has {len(name)} characters; at most {MAX_NAME}")
    bad = next((c for c in name if c in BIDI or unicodedata.category(c) in CONTROL), None)
    if bad is not None:
        fail(f"{what} may not hold control or bidi-override characters (U+{ord(bad):04X})")


def check_case(case: dict[str, str]) -> None:
    """Case data: at most ``MAX_CASE_KEYS`` keys and ``MAX_CASE_BYTES`` bytes, keys as names."""
    if len(case) > MAX_CASE_KEYS:
        fail(f"'case' has {len(case)} keys; at most {MAX_CASE_KEYS}")
    size = sum(len(_utf8(k)) + len(_utf8(v)) for k, v in case.items())
    if size > MAX_CASE_BYTES:
        fail(f"'case' holds {size} bytes; at most {MAX_CASE_BYTES}")
    for key in case:
        check_name(f"the 'case' key {clip(key, 40)}", key)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def fail(message: str) -> NoReturn:
    """Refuse a well-formed body whose values are out of bounds (422)."""
    raise Refused(422, message)
