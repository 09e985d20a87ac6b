"""``backline matrix register --url URL``: the appservice registration the homeserver reads.

Random ``as_token``/``hs_token``, the bot user, and exclusive namespaces: every user id
starting with the puppet prefix (customers on other platforms, routing puppets) and each
routing alias (``#support:server``). The same tokens go into ``[matrix]`` of backline.toml.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from typing import Any

import yaml

from adapters.matrix.config import MatrixConfig

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def registration(
    url: str, config: MatrixConfig, *, as_token: str = "", hs_token: str = ""
) -> dict[str, Any]:
    """The registration for an appservice reachable at ``url``, with fresh tokens if none."""
    server = re.escape(config.server_name)
    aliases = [
        {"exclusive": True, "regex": f"#{re.escape(route)}:{server}"}
        for route in config.route_list()
    ]
    return {
        "id": config.appservice_id,
        "url": url,
        "as_token": as_token or secrets.token_urlsafe(32),
        "hs_token": hs_token or secrets.token_urlsafe(32),
        "sender_localpart": config.bot_localpart,
        "namespaces": {
            "users": [
                {"exclusive": True, "regex": f"@{re.escape(config.puppet_prefix)}.*:{server}"}
            ],
            "aliases": aliases,
            "rooms": [],
        },
        "rate_limited": False,
        "receive_ephemeral": True,  # typing, and to-device keys for encrypted rooms
        "de.sorunome.msc2409.push_ephemeral": True,
        "org.matrix.msc3202": True,  # device lists and one-time key counts for the bot
    }


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``matrix register`` to the ``backline`` command."""
    matrix = sub.add_parser("matrix", help="Matrix application service helpers")
    actions = matrix.add_subparsers(dest="matrix_action", required=True)
    register = actions.add_parser(
        "register", help="print the appservice registration YAML for the homeserver"
    )
    register.add_argument("--url", required=True, help="where the homeserver reaches backline")
    register.add_argument("--server-name", default="localhost", help="the homeserver's domain")
    register.add_argument("--routes", default="support", help="routing aliases, comma separated")
    register.add_argument("--bot", default="backline", help="the bot's localpart")
    register.add_argument("--prefix", default="backline_", help="the puppets' localpart prefix")
    register.set_defaults(func=register_command)


def register_command(args: argparse.Namespace) -> int:
    """Print the registration; bad arguments exit 2 with each problem named."""
    config = MatrixConfig(
        server_name=args.server_name,
        routes=args.routes,
        bot_localpart=args.bot,
        puppet_prefix=args.prefix,
        as_token="a",
        hs_token="h",
    )
    problems = config.problems()
    if not _URL.match(args.url):
        problems.insert(0, f"--url {args.url!r} is not an http(s):// URL the homeserver can reach")
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    found = registration(args.url, config)
    sys.stdout.write(yaml.safe_dump(found, sort_keys=False))
    print(
        "# put as_token and hs_token into [matrix] of backline.toml;"
        " list this file in the homeserver's app_service_config_files",
        file=sys.stderr,
    )
    return 0
