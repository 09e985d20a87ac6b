"""Durations as rule files write them (``30s``, ``2m``, ``1h30m``, ``500ms``) and as seconds."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

_UNITS: dict[str, Fraction] = {
    "d": Fraction(86400),
    "h": Fraction(3600),
    "m": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1000),
}
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})(ms|d|h|m|s)")
_WHOLE = re.compile(rf"(?:{_NUMBER}(?:ms|d|h|m|s))+|{_NUMBER}")
_EXAMPLES = "30s, 2m, 1h30m or 500ms"


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds: a number of seconds or a string like ``1h30m``.

    Units are ``d``, ``h``, ``m``, ``s`` and ``ms``, largest first, each at most once; a bare
    number means seconds. Raises ``ValueError`` for anything else and for negative values.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a duration such as {_EXAMPLES}, got {value!r}")
    if isinstance(value, str):
        seconds = _parse_text(value)
    elif math.isfinite(value):
        seconds = float(value)
    else:
        raise ValueError(f"expected a finite duration, got {value!r}")
    if seconds < 0:
        raise ValueError(f"expected a duration of 0 or more, got {value!r}")
    return seconds


def _parse_text(value: str) -> float:
    text = value.strip().replace(" ", "")
    sign = -1 if text.startswith("-") else 1
    body = text.removeprefix("-")
    if not _WHOLE.fullmatch(body):
        raise ValueError(f"expected a duration such as {_EXAMPLES}, got {value!r}")
    parts = _PART.findall(body)
    if not parts:
        return sign * float(Fraction(body))
    units = [unit for _, unit in parts]
    order = list(_UNITS)
    if units != sorted(set(units), key=order.index):
        raise ValueError(f"expected units largest first and each once (like 1h30m), got {value!r}")
    return sign * float(sum(Fraction(number) * _UNITS[unit] for number, unit in parts))


_WHOLE_UNITS = tuple((unit, int(_UNITS[unit])) for unit in ("d", "h", "m"))


def format_duration(seconds: float) -> str:
    """Render seconds the way rule files write them: ``30s``, ``2m``, ``1h30m``, ``500ms``.

    ``parse_duration(format_duration(x)) == x`` for every finite ``x >= 0``.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a finite duration of 0 or more, got {seconds!r}")
    if float(seconds).is_integer():  # most durations: whole seconds
        whole, fraction = int(seconds), Decimal(0)
    else:
        exact = Decimal(repr(float(seconds)))  # the shortest decimal that reads back as it
        whole = int(exact)
        fraction = exact - whole
    out = ""
    for unit, length in _WHOLE_UNITS:
        count, whole = divmod(whole, length)
        out += f"{count}{unit}" if count else ""
    if fraction and not out and not whole and (fraction * 1000) % 1 == 0:
        return f"{int(fraction * 1000)}ms"
    if fraction:
        out += f"{format(whole + fraction, 'f')}s"
    elif whole or not out:
        out += f"{whole}s"
    return out
