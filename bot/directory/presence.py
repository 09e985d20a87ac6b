"""Presence states and what counts as available."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PresenceState(StrEnum):
    """A member's presence as the member sets it; ``busy`` is derived, never set."""

    READY = "ready"
    NOT_READY = "not_ready"
    BUSY = "busy"
    AFTER_CALL_WORK = "after_call_work"
    LOGGED_OFF = "logged_off"


@dataclass(frozen=True)
class Presence:
    """A member's presence: the state they chose plus whether interactions keep them busy."""

    state: PresenceState
    since: float
    reason: str | None = None
    busy: bool = False

    @property
    def shown(self) -> PresenceState:
        """What others see: busy (on a call, at capacity) overrides ready and not ready."""
        if self.busy and self.state in (PresenceState.READY, PresenceState.NOT_READY):
            return PresenceState.BUSY
        return self.state

    @property
    def available(self) -> bool:
        """Ready and not busy: the only presence counted in group availability (GRP-4)."""
        return self.state is PresenceState.READY and not self.busy

    def describe(self) -> str:
        """Human text: ``not ready (lunch)``, ``ready``, ``busy``."""
        text = self.shown.value.replace("_", " ")
        if self.shown is PresenceState.NOT_READY and self.reason:
            return f"{text} ({self.reason})"
        return text
