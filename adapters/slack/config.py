"""Slack settings (``[slack]`` in backline.toml or ``BACKLINE_SLACK_*``), validated on start.

The generic validator refuses the example bot token when Slack is enabled; the signing
secret (HTTP mode) and the app token (Socket Mode) are each checked only in their mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.port import choice, secret

EXAMPLE_BOT_TOKEN = "xoxb-your-bot-token"
EXAMPLE_SIGNING_SECRET = "your-signing-secret"
EXAMPLE_APP_TOKEN = "xapp-your-app-token"


@dataclass(frozen=True)
class SlackConfig:
    """How backline talks to one Slack workspace."""

    enabled: bool = False
    mode: str = choice("http", "http", "socket")  # http: Events API; socket: Socket Mode
    bot_token: str = secret(EXAMPLE_BOT_TOKEN)
    signing_secret: str = EXAMPLE_SIGNING_SECRET  # HTTP mode only
    app_token: str = EXAMPLE_APP_TOKEN  # xapp-…, Socket Mode only
    api_base_url: str = "https://slack.com/api/"
    path: str = "/slack/events"
    command: str = "/bl"
    pace_seconds: float = 1.0  # at most one message per channel per this many seconds

    def problems(self) -> list[str]:
        """What cannot work together; each sentence names ``slack.KEY``."""
        found = []
        if not self.bot_token.startswith("xoxb-"):
            found.append("'slack.bot_token' must be your app's xoxb- Bot User OAuth Token")
        if self.mode == "http" and self.signing_secret.strip() in ("", EXAMPLE_SIGNING_SECRET):
            found.append("'slack.signing_secret' still holds the example; copy your app's")
        if self.mode == "socket" and (
            self.app_token == EXAMPLE_APP_TOKEN or not self.app_token.startswith("xapp-")
        ):
            found.append("'slack.app_token' must be an xapp- App-Level Token (Socket Mode)")
        if not self.command.startswith("/"):
            found.append("'slack.command' must start with /")
        if not self.path.startswith("/"):
            found.append("'slack.path' must start with /")
        if self.pace_seconds < 0:
            found.append("'slack.pace_seconds' must be 0 or more")
        return found
