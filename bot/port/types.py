"""What crosses the port: replies, addressed messages, batches and read models (no logic)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.outbound import Priority, Say


@dataclass(frozen=True)
class Address:
    """An outside party's full address on one platform: a bare JID, an mxid, a SIP URI.

    ``via`` is where the party wrote to (an XMPP routing address, a Matrix room), so
    replies come from the same place; it is not part of the identity.
    """

    platform: str
    address: str
    via: str = ""


@dataclass(frozen=True)
class Reply:
    """What a command produced, frozen at its commit."""

    text: str
    outcome: str  # ok, refused, error, duplicate
    member: str | None = None  # the sender's member id, once identified
    ref: str | None = None
    touched: frozenset[str] = frozenset()  # interactions the command changed

    @property
    def duplicate(self) -> bool:
        """A retried delivery: nothing acted again."""
        return self.outcome == "duplicate"


@dataclass(frozen=True)
class Outgoing:
    """One message for one recipient on this adapter's platform.

    ``address`` is the recipient there (a member's handle, a customer's address; on the
    console, the ``@member`` or ``customer:NAME`` reference itself), ``via`` where a
    customer wrote to.
    """

    say: Say
    address: str
    via: str = ""

    @property
    def to(self) -> str:
        """``@member`` or ``customer:NAME``."""
        return self.say.to

    @property
    def text(self) -> str:
        """The text."""
        return self.say.text

    @property
    def interaction(self) -> str | None:
        """The interaction it belongs to, if any."""
        return self.say.interaction

    @property
    def to_customer(self) -> bool:
        """Whether the recipient is a customer."""
        return self.say.to.startswith("customer:")


@dataclass(frozen=True)
class Batch:
    """Everything one commit produced for one adapter.

    ``touched`` names every interaction the commit changed, so an adapter can refresh what
    it shows of them (cards, room names, contact presence) even when no message is for it.
    """

    messages: tuple[Outgoing, ...] = ()
    touched: frozenset[str] = frozenset()


class Unsupported(Exception):
    """Raised by ``send`` for messages the adapter cannot render; it sent the rest.

    The core tells each member concerned on their other platforms and in My Messages
    instead of dropping the message.
    """

    def __init__(self, messages: list[Outgoing], reason: str) -> None:
        super().__init__(f"{len(messages)} message(s) unsupported: {reason}")
        self.messages = messages
        self.reason = reason


@dataclass(frozen=True)
class ChatState:
    """A party's typing state for one recipient in an interaction (XEP-0085), never stored.

    ``state`` is ``composing``, ``paused`` or ``active``; ``address``/``via`` are the
    recipient on the adapter's platform, as in ``Outgoing``; ``to`` is ``@member`` or
    ``customer:NAME``.
    """

    state: str
    interaction: str
    to: str
    address: str
    via: str = ""

    @property
    def to_customer(self) -> bool:
        """Whether the recipient is a customer."""
        return self.to.startswith("customer:")


@dataclass(frozen=True)
class MemberInfo:
    """A directory member as an adapter sees one."""

    id: str
    name: str
    handle: str | None = None  # on the platform asked about
    presence: str = ""  # "ready", "not ready (lunch)" …
    roles: tuple[str, ...] = ()  # "agent", "supervisor", "admin"


@dataclass(frozen=True)
class InteractionView:
    """One interaction as ``viewer`` sees it; ``viewer`` None is a view shared by its members."""

    iid: str
    kind: str
    label: str
    state: str
    live: bool = True
    owner: str | None = None
    customer: str | None = None
    parent: str | None = None
    case: tuple[tuple[str, str], ...] = ()
    parties: tuple[str, ...] = ()  # "@bob (consultant)", connected, not supervising
    handlers: tuple[str, ...] = ()  # member ids who ask, are offered or handle it
    possible: frozenset[str] = frozenset()  # machine triggers possible in this state
    offered: bool = False  # ringing this viewer (or, shared, anyone)
    offer_expires: float | None = None
    role: str | None = None  # the viewer's party role
    connected: bool = False
    done: bool = False
    agent: str | None = None  # supervising: the agent's member id
    gone: str | None = None  # why the viewer no longer takes part


@dataclass(frozen=True)
class InteractionState:
    """How an interaction stands for one member, read cheaply (an XMPP contact's presence).

    ``left``: the viewer took part and is no longer connected (left, removed, handed over).
    """

    iid: str
    label: str
    state: str
    live: bool
    left: bool = False


@dataclass(frozen=True)
class HomeView:
    """A member's own page: presence, My Messages newest first, mailboxes, interactions."""

    name: str
    presence: str
    reasons: tuple[str, ...]
    messages: tuple[tuple[Priority, str, str], ...] = ()  # (priority, line, status)
    unread: int = 0
    mailboxes: tuple[tuple[str, int, int], ...] = ()  # (mailbox, new, old)
    interactions: tuple[str, ...] = ()
    live: tuple[str, ...] = field(default=())  # ids of the member's live interactions
