"""JSON text for stored columns (event data, interaction data, replies): compact, keys sorted.

Every command serialises several of these before its commit, so they go through orjson,
which writes the same JSON an order of magnitude faster than the standard library. Strict
JSON has no infinity (orjson writes it as ``null``): values that may be infinite are stored
as ``null`` by their owner. Rows written before may hold the standard library's
``Infinity``; those are still read.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """``value`` as JSON text, keys sorted."""
    return orjson.dumps(value, option=_OPTIONS).decode()


def loads(text: str | bytes) -> Any:
    """The value of JSON text (``Infinity`` and ``NaN`` of older rows included)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
