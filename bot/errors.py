"""Errors a member sees as a sentence, not a stack trace."""

from __future__ import annotations


class CommandError(Exception):
    """A refusal with a user-facing message that says what to do next."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CommandError):
    """A target that names nobody: ``@nobody``, ``group:nope``."""
