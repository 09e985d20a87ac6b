"""Matrix settings (``[matrix]`` in backline.toml, ``BACKLINE_MATRIX_*``), validated on start.

The generic validator refuses the example tokens when the adapter is enabled; ``problems``
checks what only makes sense across fields. The tokens are the ones in the registration
``backline matrix register`` printed and the homeserver reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.port import secret

EXAMPLE_AS_TOKEN = "your-as-token"
EXAMPLE_HS_TOKEN = "your-hs-token"
_LOCALPART = re.compile(r"^[a-z0-9._=/-]+$")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?$")


@dataclass(frozen=True)
class MatrixConfig:
    """How backline talks to one homeserver as an application service.

    ``homeserver`` is the client-server API URL backline calls; ``server_name`` the domain
    of user ids (``@alice:example.org``). Customers write to ``#ROUTE:server_name`` (a
    lobby that invites them into a private chat) or to the routing puppet
    ``@{puppet_prefix}route_ROUTE``; ``routes`` lists the lobbies made on start.
    """

    enabled: bool = False
    homeserver: str = "http://127.0.0.1:8008"
    server_name: str = "localhost"
    as_token: str = secret(EXAMPLE_AS_TOKEN)
    hs_token: str = secret(EXAMPLE_HS_TOKEN)
    bot_localpart: str = "backline"
    puppet_prefix: str = "backline_"
    appservice_id: str = "backline"
    routes: str = "support"  # comma separated: support, group-billing, rp-sales …
    command_prefix: str = "!bl"
    retry_max: float = 30.0  # seconds between retries at most while the homeserver is down
    encryption: bool = True  # read and write encrypted rooms (mautrix crypto, python-olm)
    encrypt_rooms: bool = False  # make interaction rooms encrypted (members' clients must be)

    def route_list(self) -> list[str]:
        """The routing aliases' local parts."""
        return [r.strip() for r in self.routes.split(",") if r.strip()]

    def problems(self) -> list[str]:
        """What cannot work together; each sentence names ``matrix.KEY``."""
        found: list[str] = []
        if not self.homeserver.startswith(("http://", "https://")):
            found.append("'matrix.homeserver' must be the homeserver's http(s):// URL")
        if not _SERVER_NAME.match(self.server_name):
            found.append(f"'matrix.server_name' {self.server_name!r} is not a domain")
        for key in ("bot_localpart", "puppet_prefix"):
            if not _LOCALPART.match(getattr(self, key)):
                found.append(f"'matrix.{key}' must be a lower-case Matrix user localpart")
        if self.bot_localpart.startswith(self.puppet_prefix):
            found.append("'matrix.bot_localpart' must not start with 'matrix.puppet_prefix'")
        if self.as_token == self.hs_token:
            found.append("'matrix.as_token' and 'matrix.hs_token' must differ")
        for route in self.route_list():
            if not _LOCALPART.match(route):
                found.append(f"'matrix.routes' entry {route!r} is not an alias localpart")
        if not self.command_prefix.startswith("!"):
            found.append(
                "'matrix.command_prefix' must start with ! (clients keep / for themselves)"
            )
        if self.retry_max < 0.1:
            found.append("'matrix.retry_max' must be at least 0.1 seconds")
        return found

    @property
    def bot(self) -> str:
        """The bot's user id."""
        return f"@{self.bot_localpart}:{self.server_name}"
