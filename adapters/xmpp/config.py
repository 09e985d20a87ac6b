"""XMPP settings (``[xmpp]`` in backline.toml, ``BACKLINE_XMPP_*``), validated before use.

The settings validator checks each field's type, the mode's choices and the port range, and
refuses the example secrets; ``problems`` adds what only makes sense across fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from bot.port import choice, port, secret

MODES = ("component", "client")
# What an XMPP presence may set a member to; "ignore" leaves backline presence alone.
PRESENCE_ACTIONS = ("ready", "not_ready", "logged_off", "ignore")
# Secrets shipped in examples and manifests: refusing them stops a copied config going live.
EXAMPLE_SECRETS = ("secret", "changeme", "change-me", "change-me-please", "example", "password")
_JID = re.compile(r"^(?:[^@/\s]+@)?[a-z0-9.-]+$", re.IGNORECASE)


@dataclass(frozen=True)
class XmppConfig:
    """The XMPP adapter's settings.

    ``mode = "component"``: ``jid`` is the component domain (``backline.localhost``) and
    ``secret`` the component secret the server's config holds. ``mode = "client"``: ``jid``
    is an ordinary account (``bot@example.org``) and ``secret`` its password.
    ``presence_*`` is the rule table from a member's XMPP presence to their backline presence:
    each is ``ready``, ``not_ready``, ``not_ready:REASON``, ``logged_off`` or ``ignore``.
    """

    enabled: bool = False
    mode: str = choice("component", *MODES)
    jid: str = "backline.localhost"
    secret: str = secret("", *EXAMPLE_SECRETS)
    host: str = "127.0.0.1"
    port: int = port(5347)
    plaintext: bool = False  # client mode: log in without TLS (loopback test servers only)
    reconnect_max: int = 30  # seconds between reconnect attempts at most (backoff doubles)
    max_stanza: int = 65536  # bytes per stanza at most; longer replies go out in parts
    client_route: str = "group:support"  # client mode: where an unknown JID's chat goes
    presence_available: str = "ready"
    presence_chat: str = "ready"
    presence_away: str = "not_ready"
    presence_xa: str = "not_ready"
    presence_dnd: str = "not_ready"
    presence_unavailable: str = "logged_off"

    def presence_map(self) -> dict[str, str]:
        """``{xmpp show or "available"/"unavailable": backline action}``."""
        return {
            f.name.removeprefix("presence_"): getattr(self, f.name)
            for f in fields(self)
            if f.name.startswith("presence_")
        }

    def problems(self) -> list[str]:
        """What is wrong across fields, as sentences naming the setting."""
        found: list[str] = []
        if not _JID.match(self.jid):
            found.append(f"xmpp.jid: {self.jid!r} is not a JID like backline.example.org")
        elif self.mode == "component" and "@" in self.jid:
            found.append("xmpp.jid: a component is a domain (backline.example.org), without '@'")
        elif self.mode == "client" and "@" not in self.jid:
            found.append("xmpp.jid: client mode logs in as an account like bot@example.org")
        if self.secret not in EXAMPLE_SECRETS and self.secret.strip().lower() in EXAMPLE_SECRETS:
            found.append("xmpp.secret: an example value (in any case) is refused; set your own")
        if self.port == 0:
            found.append("xmpp.port: expected the server's component (or c2s) port, got 0")
        if self.max_stanza < 4096:
            found.append("xmpp.max_stanza: expected at least 4096 bytes (servers allow far more)")
        if self.reconnect_max < 1:
            found.append("xmpp.reconnect_max: expected at least 1 second")
        for show, action in self.presence_map().items():
            base = action.split(":", 1)[0]
            if base not in PRESENCE_ACTIONS or (":" in action and base != "not_ready"):
                found.append(
                    f"xmpp.presence_{show}: expected one of {', '.join(PRESENCE_ACTIONS)}"
                    f" or not_ready:REASON, got {action!r}"
                )
        return found
