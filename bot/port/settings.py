"""Declaring settings fields: ports, choices and secrets whose examples refuse to start."""

from __future__ import annotations

from dataclasses import field
from typing import Any

__all__ = ["choice", "port", "secret"]


def port(default: int) -> Any:
    """A TCP port setting (0 picks a free one)."""
    return field(default=default, metadata={"port": True})


def choice(default: str, *choices: str) -> Any:
    """A setting with a fixed set of values."""
    return field(default=default, metadata={"choices": choices})


def secret(default: str, *examples: str) -> Any:
    """A secret: its default and the ``examples`` are placeholders an enabled adapter refuses."""
    return field(default=default, metadata={"examples": (default, *examples)})
