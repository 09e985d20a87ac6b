"""Slack's message format, both ways: escape what goes out, decode what comes in, once.

Slack reads ``<…>`` as a control sequence (``<!channel>``, ``<@U123>``, ``<https://x|label>``)
and ``&`` as the start of an entity, so every untrusted text (customer names and text, case
data, text relayed from other platforms) is escaped before it is posted: ``&`` → ``&amp;``,
``<`` → ``&lt;``, ``>`` → ``&gt;``. Then ``@member`` becomes a real mention ``<@U…>`` where the
member has a Slack id. Inbound, Slack sends text the same way, and ``decode`` turns it back
into what the member typed: mentions into ``@member``, links into ``label (url)``,
channels into ``#name``, entities into characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A Slack user id → the directory member id behind it (None: not in the directory).
Names = Callable[[str], str | None]
# A directory member id → their Slack user id (None: not on Slack).
Users = Callable[[str], str | None]

_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_TOKEN = re.compile(r"<([^<>]*)>")
# ``@id`` not inside a word, an e-mail address or an escaped ``&lt;@id``.
_MENTION = re.compile(r"(?<![\w@./;&<])@([a-z0-9][a-z0-9_-]*)")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def escape(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` as Slack's entities: shown, never interpreted."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack's three entities back into characters, in one pass (``&amp;lt;`` → ``&lt;``)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)


def mentions(escaped: str, users: Users) -> str:
    """``@member`` → ``<@U…>`` in already escaped text, for members with a Slack id."""

    def mention(match: re.Match[str]) -> str:
        user = users(match.group(1))
        return f"<@{user}>" if user else match.group(0)

    return _MENTION.sub(mention, escaped)


def to_slack(text: str, users: Users) -> str:
    """Untrusted text as Slack should show it: escaped, with members' mentions."""
    return mentions(escape(text), users)


def decode(text: str, names: Names) -> str:
    """What a Slack user typed, from the text Slack sent: tokens first, then entities."""
    return unescape(_TOKEN.sub(lambda m: _token(m.group(1), names), text))


def _token(inner: str, names: Names) -> str:
    """One ``<…>`` sequence as plain text (its parts are still escaped)."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        member = names(target[1:])
        return f"@{member or label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        word = target[1:].split("^", 1)[0]
        return _SPECIAL.get(word) or label or f"@{word}"
    if not label or _bare(target) == label:
        return label or target
    return f"{label} ({target})"


def _bare(url: str) -> str:
    """A URL without its scheme, as Slack labels a link the user typed bare."""
    return re.sub(r"^(?:https?://|mailto:|tel:)", "", url)
