"""What the core asks adapters to deliver: platform-neutral intents."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Priority(StrEnum):
    """Priority of a notice; rich platforms show it by colour, plain ones by a marker."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


@dataclass(frozen=True)
class Say:
    """Text for one recipient: ``@member`` or ``customer:NAME``.

    ``interaction`` names the interaction it belongs to, so adapters can put it in that
    interaction's thread, room or contact JID; ``private`` marks consultation and coaching
    content that must never reach a customer.
    """

    to: str
    text: str
    interaction: str | None = None
    private: bool = False
    priority: Priority = Priority.NORMAL
    notice: bool = False  # a system message preview: a headline / notification with sound
