"""Pure conversions for XMPP: stanza fields in, core events out; ``Say`` in, stanza fields out.

No I/O and no slixmpp here: the adapter reads a stanza into ``MessageIn``/``PresenceIn``,
asks these functions what it means, and sends what a ``StanzaOut`` describes.

Addresses on the component ``backline.example.org``:
- ``backline.example.org`` or ``bot@…``: the bot, members type commands (the console grammar);
- ``i7@…``: interaction or consultation i7; a member's text there is ``say TEXT`` in i7,
  ``/CMD`` is the command CMD in i7, and a bare ``accept``/``decline``/``done`` acts on i7;
- anything else is a routing address for customers: ``support@`` (group:support),
  ``group-x@``, ``rp-sales@``, ``queue-x@``, ``skill-x@``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.port import PresenceState, Priority, Say

PLATFORM = "xmpp"
BOT_LOCALPARTS = frozenset({"", "bot"})
BARE_COMMANDS = frozenset({"accept", "decline", "done"})
MAX_BODY = 4000
BYE_WORDS = frozenset({"bye", "/bye", "goodbye"})
_INTERACTION = re.compile(r"^i\d+$")
_ROUTE_PREFIXES = {"group-": "group:", "rp-": "rp:", "queue-": "queue:", "skill-": "skill:"}
PRIORITY_MARKS = {
    Priority.LOW: "",
    Priority.NORMAL: "",
    Priority.HIGH: "(!) ",
    Priority.URGENT: "(!!) ",
}


# --- JIDs -----------------------------------------------------------------------------------


def bare(jid: str) -> str:
    """``alice@localhost/phone`` → ``alice@localhost`` (lower-cased: JIDs compare that way)."""
    return jid.split("/", 1)[0].lower()


def localpart(jid: str) -> str:
    """The part before ``@`` of a bare JID, or ``""`` for a domain."""
    node, at, _ = bare(jid).partition("@")
    return node if at else ""


def domain(jid: str) -> str:
    """The domain of a JID."""
    return bare(jid).rpartition("@")[2]


def routing_target(node: str) -> str | None:
    """The target a routing address names, or None for the bot's and interactions' own.

    ``support`` → ``group:support``; ``rp-sales`` → ``rp:sales``.
    """
    if node in BOT_LOCALPARTS or _INTERACTION.match(node):
        return None
    for prefix, kind in _ROUTE_PREFIXES.items():
        if node.startswith(prefix) and len(node) > len(prefix):
            return kind + node.removeprefix(prefix)
    return f"group:{node}"


def routing_address(target: str, component: str) -> str:
    """The JID customers write to for a target: ``group:support`` → ``support@component``."""
    kind, _, name = target.partition(":")
    node = name if kind == "group" else f"{kind}-{name}"
    return f"{node}@{component}"


# --- inbound --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageIn:
    """The fields of a ``<message/>`` the adapter read."""

    frm: str
    to: str
    type: str = "chat"  # chat, normal, groupchat, headline, error
    body: str | None = None
    id: str | None = None
    error: str = ""  # the error condition of a type="error" message


@dataclass(frozen=True)
class MemberCommand:
    """A member typed to the bot or in an interaction's contact JID.

    ``key`` makes a retried stanza act once; ``context`` is the interaction it was written in.
    """

    sender: str  # bare JID
    text: str
    key: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class CustomerText:
    """An outside JID wrote to a routing address (INT-2)."""

    jid: str  # the full JID it wrote from (replies go back there)
    address: str  # the routing address it wrote to (replies come from there)
    target: str
    text: str
    bye: bool = False


@dataclass(frozen=True)
class Bounce:
    """The server returned one of our messages (recipient offline, unknown, ...)."""

    to: str  # whom we had sent it to
    id: str | None
    condition: str


@dataclass(frozen=True)
class Refuse:
    """A stanza we cannot take: answer with a stanza error saying why."""

    condition: str  # an RFC 6120 stanza error condition
    text: str


@dataclass(frozen=True)
class Ignore:
    """Nothing to do (chat states, receipts, our own echoes)."""

    reason: str


Classified = MemberCommand | CustomerText | Bounce | Refuse | Ignore


def classify(msg: MessageIn, component: str, *, client: bool = False) -> Classified:
    """What an incoming message to the component (or, in client mode, the bot) means."""
    if msg.type == "error":
        return Bounce(bare(msg.frm), msg.id, msg.error or "undefined-condition")
    if (bare(msg.frm) if client else domain(msg.frm)) == component.lower():
        return Ignore("our own address: never answered, so no loops (ADP-6)")
    if msg.body is None:
        return Ignore("no body: a chat state or a receipt")
    if msg.type == "headline":
        return Ignore("headlines are notices, never answered")
    if msg.type == "groupchat":
        return Refuse(
            "bad-request",
            f"backline does not read group chats; write to {component} directly.",
        )
    if len(msg.body) > MAX_BODY:
        return Refuse(
            "not-acceptable",
            f"That message is {len(msg.body)} characters; backline takes at most {MAX_BODY}.",
        )
    node = "" if client else localpart(msg.to)  # a client account is the bot itself
    key = f"{bare(msg.frm)}/{msg.id}" if msg.id else None
    if node in BOT_LOCALPARTS:
        return MemberCommand(bare(msg.frm), msg.body.strip(), key)
    if _INTERACTION.match(node):
        return interaction_command(bare(msg.frm), node, msg.body, key)
    target = routing_target(node)
    assert target is not None  # every other address routes
    text = msg.body.strip()
    if not text:
        return Ignore("an empty message to a routing address")
    return CustomerText(msg.frm, bare(msg.to), target, text, bye=text.lower() in BYE_WORDS)


def interaction_command(sender: str, iid: str, body: str, key: str | None) -> MemberCommand:
    """A member's text in interaction ``iid``'s contact: ``say`` it, unless it is a command."""
    text = body.strip()
    first = text.split(None, 1)[0].lower() if text else ""
    if text.startswith("/") and len(text) > 1:
        text = text[1:].strip()
    elif first in BARE_COMMANDS and text.lower() in (first, f"{first} {iid}"):
        text = first
    else:
        text = f"say {iid} {text}"  # the id first, so text starting "i3 …" stays text
    return MemberCommand(sender, text, key, iid)


def presence_show(ptype: str | None, show: str | None) -> str | None:
    """``available``, ``chat``, ``away``, ``xa``, ``dnd`` or ``unavailable``.

    None for subscriptions, probes and errors (not a member's availability).
    """
    shows = ("chat", "away", "xa", "dnd")
    if ptype in shows:  # slixmpp reports an available presence's show as its type
        return ptype
    if ptype in (None, "", "available"):
        return show if show in shows else "available"
    if ptype == "unavailable":
        return "unavailable"
    return None


PRESENCE_STATES = {
    "ready": PresenceState.READY,
    "not_ready": PresenceState.NOT_READY,
    "logged_off": PresenceState.LOGGED_OFF,
}


def presence_state(show: str, rules: dict[str, str]) -> tuple[PresenceState, str | None] | None:
    """The backline presence (and not-ready reason) a member's XMPP show maps to, or None.

    None means ``ignore``: the rule table leaves backline presence alone for that show.
    """
    base, _, reason = rules.get(show, "ignore").partition(":")
    state = PRESENCE_STATES.get(base)
    if state is None:
        return None
    return state, (reason or None) if state == PresenceState.NOT_READY else None


def effective_show(resources: dict[str, str]) -> str:
    """A member's show over all their resources: the most available one wins."""
    order = ("chat", "available", "away", "xa", "dnd")
    shown = [s for s in resources.values() if s in order]
    return min(shown, key=order.index) if shown else "unavailable"


# --- outbound -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StanzaOut:
    """A message to send: ``<message to= from= type=><body/></message>``."""

    to: str
    frm: str
    type: str
    body: str
    subject: str | None = None


def to_member(message: Say, jid: str, component: str, *, client: bool = False) -> StanzaOut:
    """A message for a member at ``jid``.

    Notices are headlines from the bot; interaction messages come from the interaction's
    contact JID (in client mode from the bot, prefixed ``(i7)``).
    """
    text = PRIORITY_MARKS[message.priority] + message.text
    if message.notice:
        return StanzaOut(jid, component, "headline", text, f"backline: {message.priority.value}")
    if message.interaction is None:
        return StanzaOut(jid, component, "chat", text)
    if client:
        return StanzaOut(jid, component, "chat", f"({message.interaction}) {text}")
    return StanzaOut(jid, f"{message.interaction}@{component}", "chat", text)


def to_customer(message: Say, jid: str, address: str) -> StanzaOut | None:
    """A message for a customer, from the routing address they wrote to.

    None for anything private: consultation and coaching content never reaches a customer
    (CON-2), and neither do system notices.
    """
    if message.private or message.notice:
        return None
    return StanzaOut(jid, address, "chat", message.text)


def interaction_presence(label: str, state: str, live: bool) -> tuple[str, str | None, str]:
    """How interaction i7 shows as a contact: ``(type, show, status)``."""
    if not live or state == "closed":
        return "unavailable", None, f"{label} — closed"
    show = {
        "queued": "chat",
        "offered": "chat",
        "held": "away",
        "wrapup": "xa",
        "ended": "xa",
        "recording": "away",
    }.get(state)
    return "available", show, f"{label} — {state}"
