"""Issue 12: thousands of hostile bodies against the real aiohttp app: never a 5xx, and a
refused body stores nothing (state snapshot, address book and live interactions unchanged).

Bodies: valid-looking requests with wrong types, huge strings, controls, bidi overrides and
lone surrogates (escaped and as raw bytes), duplicate keys, deep nesting, random bytes; sent
with JSON and other content types. One app serves every example.
"""

from __future__ import annotations

import io
import json
import unicodedata
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.api_input import MAX_BODY, MAX_CASE_BYTES, MAX_CASE_KEYS, MAX_NAME, MAX_TEXT
from bot.core import Core
from bot.state import snapshot
from tests.test_api import addresses

EXAMPLES = 2000
JSON_TYPES = ("application/json", "application/json; charset=utf-8", "Application/JSON")
OTHER_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/octet-stream",
    "application/problem+json",
    "",
)
ODD = "\x00\x07\x1b\x7f\x85\u2028\u202e\u2066\u200f\ufeff\ud800\udfff"

odd_chars = st.sampled_from(ODD)
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
chars = st.one_of(st.characters(), odd_chars, surrogates)
short = st.text(chars, max_size=12)
huge = st.builds(lambda c, n: c * n, st.sampled_from("aé\x00\u202e"), st.integers(150, 70_000))
strings = st.one_of(
    short,
    huge,
    st.sampled_from(["", " ", "Ann", "group:support", "@alice", "support", "vm:alice"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities serialise as NaN / Infinity: not JSON
    strings,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short, inner, max_size=3),
    max_leaves=8,
)
case = st.one_of(
    st.dictionaries(strings, strings, max_size=4),
    st.integers(MAX_CASE_KEYS - 1, MAX_CASE_KEYS + 2).map(
        lambda n: {f"k{i}": "v" for i in range(n)}
    ),
    st.integers(MAX_CASE_BYTES - 8, MAX_CASE_BYTES + 8).map(lambda n: {"k": "x" * (n - 1)}),
    values,
)
targets = st.sampled_from(["group:support", "group:billing", "@alice", "group:nope", "vm:alice"])
near = st.integers(-2, 2)
clean = st.text(st.characters(codec="utf-8"), max_size=20)  # no surrogates, controls possible
names = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Zl", "Zp"]), min_size=1),
    clean,
    short,
    near.map(lambda d: "n" * (MAX_NAME + d)),
)
texts = st.one_of(clean, strings, near.map(lambda d: "t" * (MAX_TEXT + d)))
field_values = {
    "kind": st.one_of(st.sampled_from(["chat", "email", "workitem", "voice", "fax"]), values),
    "customer": st.one_of(names, values),
    "target": st.one_of(targets, strings, values),
    "text": st.one_of(texts, values),
    "case": case,
    "colour": values,
}
# Mostly right: the three required fields well typed, then perhaps one field made wrong.
plausible = st.fixed_dictionaries(
    {"kind": st.sampled_from(["chat", "email", "workitem"]), "customer": names, "target": targets},
    optional={"text": texts, "case": case},
)
requests = st.one_of(
    plausible,
    st.builds(
        lambda data, key, value: {**data, key: value},
        plausible,
        st.sampled_from(sorted(field_values)),
        st.deferred(lambda: st.one_of(*field_values.values())),
    ),
    st.fixed_dictionaries({}, optional=field_values),
)


def refused_in_names(char: str) -> bool:
    """Controls, line separators and bidi embeddings, overrides and isolates."""
    return (
        unicodedata.category(char) in ("Cc", "Zl", "Zp")
        or "\u202a" <= char <= "\u202e"
        or ("\u2066" <= char <= "\u2069")
    )


def dumped(data: Any, ascii_only: bool) -> bytes:
    """JSON text; a lone surrogate is an escape (ascii_only) or invalid UTF-8 bytes."""
    return json.dumps(data, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def duplicated(pairs: list[tuple[str, Any]]) -> bytes:
    """An object that repeats its first key."""
    pairs = [*pairs, pairs[0]] if pairs else [("kind", "chat"), ("kind", "email")]
    return ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode()


def nested(depth: int, inside_case: bool) -> bytes:
    """Arrays nested ``depth`` deep, bare or as the value of a case key."""
    deep = "[" * depth + "]" * depth
    if inside_case:
        return f'{{"kind": "chat", "customer": "N", "target": "@alice", "case": {deep}}}'.encode()
    return deep.encode()


def spliced(body: bytes, junk: bytes, at: int) -> bytes:
    return body[: at % (len(body) + 1)] + junk + body[at % (len(body) + 1) :]


bodies = st.one_of(
    st.builds(dumped, plausible, st.booleans()),
    st.builds(dumped, plausible, st.booleans()),
    st.builds(dumped, requests, st.booleans()),
    st.builds(dumped, requests, st.booleans()),
    st.builds(dumped, values, st.booleans()),
    st.builds(
        duplicated,
        st.lists(st.tuples(st.sampled_from(sorted(field_values)), values), max_size=4),
    ),
    st.builds(nested, st.integers(1, 5000), st.booleans()),
    st.builds(
        spliced,
        st.builds(dumped, requests, st.just(True)),
        st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\xc3", b"\x00", b"\\ud800", b'"', b"}"]),
        st.integers(0, 200),
    ),
    st.binary(max_size=300),
    st.integers(MAX_BODY - 40, MAX_BODY + 4096).map(
        lambda n: (
            b'{"kind": "chat", "customer": "Big", "target": "@alice", "text": "' + b"x" * n + b'"}'
        )
    ),
)
content_types = st.sampled_from([*JSON_TYPES * 5, *OTHER_TYPES])


def stored(core: Core) -> tuple[Any, ...]:
    """Everything a refused body must leave as it was."""
    return snapshot(core.store), addresses(core), sorted(core.engine.live)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app for every example, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(body=bodies, content_type=content_types)
async def test_no_body_gets_a_5xx_and_a_refused_body_stores_nothing(
    served: tuple[TestClient, Core], body: bytes, content_type: str
) -> None:
    client, core = served
    before = stored(core)
    headers = {"Content-Type": content_type} if content_type else {}
    skip = () if content_type else ("Content-Type",)
    response = await client.post(
        "/api/interactions", data=io.BytesIO(body), headers=headers, skip_auto_headers=skip
    )
    assert response.status < 500, await response.text()
    event(f"HTTP {response.status}")  # --hypothesis-show-statistics shows the mix
    answer = await response.json()
    if content_type not in JSON_TYPES:
        assert response.status == 415
    elif len(body) > MAX_BODY:
        assert response.status == 413
    if response.status != 201:
        assert isinstance(answer["error"], str) and len(answer["error"]) < 600
        assert stored(core) == before
        return
    sent = json.loads(body)  # what was taken is strict, bounded JSON, stored as sent
    assert body.decode("utf-8") and len(body) <= MAX_BODY
    assert 0 < len(sent["customer"]) <= MAX_NAME and len(sent.get("text", "")) <= MAX_TEXT
    assert not any(refused_in_names(c) for c in sent["customer"] + sent["target"])
    assert ("api", sent["customer"]) in {(p, a) for p, a, _, _ in addresses(core)}
    assert answer["id"] in core.engine.live or answer["state"] == "closed"
