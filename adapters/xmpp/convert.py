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
import unicodedata
from dataclasses import dataclass

from bot.port import PresenceState, Priority, Say

PLATFORM = "xmpp"
BOT_LOCALPARTS = frozenset({"", "bot"})
BARE_COMMANDS = frozenset({"accept", "decline", "done"})
MAX_BODY = 4000
BYE_WORDS = frozenset({"bye", "/bye", "goodbye"})
INTERACTION = re.compile(r"^i\d+$")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
RELAYED_STATES = frozenset({"composing", "paused"})
EDITED = "(edited) "
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
    if node in BOT_LOCALPARTS or INTERACTION.match(node):
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
    replace: str | None = None  # XEP-0308: the id of the message this one corrects
    chat_state: str | None = None  # XEP-0085: composing, paused, active …
    receipt: bool = False  # XEP-0184: the sender asked for a receipt


@dataclass(frozen=True)
class MemberCommand:
    """A member typed to the bot or in an interaction's contact JID.

    ``key`` makes a retried stanza act once; ``context`` is the interaction it was written in.
    """

    sender: str  # bare JID
    text: str
    key: str | None = None
    context: str | None = None
    corrects: str | None = None  # the id of the message a correction replaces (XEP-0308)


@dataclass(frozen=True)
class CustomerText:
    """An outside JID wrote to a routing address (INT-2)."""

    jid: str  # the full JID it wrote from (replies go back there)
    address: str  # the routing address it wrote to (replies come from there)
    target: str
    text: str
    bye: bool = False
    corrects: str | None = None  # the id of the message a correction replaces (XEP-0308)


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
class Typing:
    """A chat state to relay (XEP-0085): a member in an interaction's contact, or a customer."""

    jid: str  # bare
    state: str
    iid: str | None = None  # the contact written to; None: a routing address (a customer)


@dataclass(frozen=True)
class Ignore:
    """Nothing to do (chat states, receipts, our own echoes)."""

    reason: str


Classified = MemberCommand | CustomerText | Bounce | Refuse | Typing | Ignore


def normalized(text: str) -> str:
    """Command text as typed on a phone: full-width forms folded (NFKC), zero-width removed."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).strip()


def classify(msg: MessageIn, component: str, *, client: bool = False) -> Classified:
    """What an incoming message to the component (or, in client mode, the bot) means."""
    if msg.type == "error":
        return Bounce(bare(msg.frm), msg.id, msg.error or "undefined-condition")
    if (bare(msg.frm) if client else domain(msg.frm)) == component.lower():
        return Ignore("our own address: never answered, so no loops (ADP-6)")
    if msg.body is None:
        return typing(msg, component, client=client)
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
    edited = EDITED if msg.replace else ""
    if node in BOT_LOCALPARTS:
        if edited:
            return Ignore("a corrected command is not run again")
        return MemberCommand(bare(msg.frm), normalized(msg.body), key)
    if INTERACTION.match(node):
        return interaction_command(bare(msg.frm), node, msg.body, key, corrects=msg.replace)
    target = routing_target(node)
    assert target is not None  # every other address routes
    text = msg.body.strip()
    if not text:
        return Ignore("an empty message to a routing address")
    bye = not edited and normalized(text).lower() in BYE_WORDS
    return CustomerText(msg.frm, bare(msg.to), target, edited + text, bye, msg.replace)


def typing(msg: MessageIn, component: str, *, client: bool = False) -> Typing | Ignore:
    """A bodiless message: a chat state worth relaying, or nothing (a receipt, ``active``)."""
    if msg.chat_state not in RELAYED_STATES or msg.type not in ("chat", "normal") or client:
        return Ignore("no body: a receipt or a chat state nobody needs")
    node = localpart(msg.to)
    if node in BOT_LOCALPARTS:
        return Ignore("typing to the bot")
    iid = node if INTERACTION.match(node) else None
    return Typing(bare(msg.frm), msg.chat_state, iid)


def interaction_command(
    sender: str, iid: str, body: str, key: str | None, *, corrects: str | None = None
) -> MemberCommand:
    """A member's text in interaction ``iid``'s contact: ``say`` it, unless it is a command.

    A correction (of the message ``corrects``) is always said again, marked, never run as a
    command.
    """
    edited = EDITED if corrects else ""
    text = body.strip()
    command = normalized(text)
    first = command.split(None, 1)[0].lower() if command else ""
    if edited:
        text = f"say {iid} {edited}{text}"
    elif command.startswith("/") and len(command) > 1:
        text = command[1:].strip()
    elif first in BARE_COMMANDS and command.lower() in (first, f"{first} {iid}"):
        text = first
    else:
        text = f"say {iid} {text}"  # the id first, so text starting "i3 …" stays text
    return MemberCommand(sender, text, key, iid, corrects)


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
    iid: str | None = None  # the interaction it belongs to, if any
    corrects: str | None = None  # the id of the message we sent that this one corrects


def to_member(message: Say, jid: str, component: str, *, client: bool = False) -> StanzaOut:
    """A message for a member at ``jid``.

    Notices are headlines from the bot; interaction messages come from the interaction's
    contact JID (in client mode from the bot, prefixed ``(i7)``).
    """
    text = PRIORITY_MARKS[message.priority] + message.text
    if message.notice:
        return StanzaOut(jid, component, "headline", text, f"backline: {message.priority.value}")
    iid = message.interaction
    if iid is None:
        return StanzaOut(jid, component, "chat", text)
    if client:
        return StanzaOut(jid, component, "chat", f"({iid}) {text}", iid=iid)
    return StanzaOut(jid, f"{iid}@{component}", "chat", text, iid=iid)


def to_customer(message: Say, jid: str, address: str) -> StanzaOut | None:
    """A message for a customer, from the routing address they wrote to.

    None for anything private: consultation and coaching content never reaches a customer
    (CON-2), and neither do system notices.
    """
    if message.private or message.notice:
        return None
    return StanzaOut(jid, address, "chat", message.text, iid=message.interaction)


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
