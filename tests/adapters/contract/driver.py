"""What every adapter's driver gives the contract suite (ADP-6).

A driver runs backline with one adapter against that platform's real peer (or, for Slack,
signed requests against the strict Web API stub) and acts as the platform's users would.
Members ``alice`` and ``bob`` (group support) are on the driver's platform; ``chen`` stays on
the console, which every driver also attaches so cross-platform IM can be checked.

Customers: a platform that has customers (console, XMPP, Matrix, SIP) opens them itself;
a platform without (Slack) gets them from the console (``customer_platform = "console"``).
Every wait is bounded; ``received`` returns what arrived so far after waiting for ``expect``.
"""

from __future__ import annotations

from typing import Protocol


class Driver(Protocol):
    """One adapter under the contract suite."""

    platform: str  # "console", "slack", "xmpp", "matrix", "sip"
    customer_platform: str  # where this driver's customers come from

    async def start(self) -> None:
        """Start backline with the adapter (a fresh database each test)."""

    async def stop(self) -> None:
        """Stop backline and every client."""

    async def restart(self) -> None:
        """Stop backline abruptly (nothing flushed) and start it again on the same database."""

    async def member_types(self, member: str, text: str, *, interaction: str | None = None) -> None:
        """A member writes on the platform: a command at their desk, or, with ``interaction``,
        in that interaction's place (Slack thread, XMPP contact ``iN@``, Matrix room)."""

    async def member_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """Every text the member got on the platform so far; waits until one contains
        ``expect`` (raises ``AssertionError`` with what did arrive if none does in time)."""

    async def member_presence(self, member: str, available: bool) -> None:
        """The member's own platform presence changes (XMPP show, Slack App Home selector);
        a platform without presence types ``ready`` / ``notready``."""

    async def customer_writes(self, customer: str, text: str, *, target: str = "") -> None:
        """A customer writes; the first time, ``target`` (``group:support``) opens the chat."""

    async def customer_leaves(self, customer: str) -> None:
        """The customer hangs up or goes away."""

    async def customer_received(
        self, customer: str, expect: str, timeout: float = 5.0
    ) -> list[str]:
        """Every text the customer got so far; waits as ``member_received`` does."""

    async def console_types(self, member: str, text: str) -> None:
        """A console member (``chen``) types a command."""

    async def console_received(self, member: str, expect: str, timeout: float = 5.0) -> list[str]:
        """What the console showed a console member; waits as ``member_received`` does."""

    def state(self) -> dict[str, object]:
        """The stored state as ``backline state`` prints it (``bot.state.snapshot``)."""
