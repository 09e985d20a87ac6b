"""Slack settings (``[slack]`` in backline.toml or ``BACKLINE_SLACK_*``), validated on start."""

from __future__ import annotations

from dataclasses import dataclass

EXAMPLE_BOT_TOKEN = "xoxb-your-bot-token"
EXAMPLE_SIGNING_SECRET = "your-signing-secret"
EXAMPLE_APP_TOKEN = "xapp-your-app-token"
MODES = ("http", "socket")


class SlackConfigError(ValueError):
    """A Slack setting that cannot be used; the message says which and what to do."""


@dataclass(frozen=True)
class SlackConfig:
    """How backline talks to one Slack workspace."""

    enabled: bool = False
    mode: str = "http"  # http: Events API on /slack/events; socket: Socket Mode websocket
    bot_token: str = EXAMPLE_BOT_TOKEN
    signing_secret: str = EXAMPLE_SIGNING_SECRET
    app_token: str = EXAMPLE_APP_TOKEN  # xapp-…, Socket Mode only
    api_base_url: str = "https://slack.com/api/"
    path: str = "/slack/events"
    command: str = "/bl"
    pace_seconds: float = 1.0  # at most one message per channel per this many seconds

    def check(self) -> None:
        """Refuse settings that cannot work; secrets still holding the example never start."""
        problems = []
        if self.mode not in MODES:
            problems.append(f"'slack.mode' expects one of: {', '.join(MODES)}; got {self.mode!r}")
        if self.bot_token in ("", EXAMPLE_BOT_TOKEN) or not self.bot_token.startswith("xoxb-"):
            problems.append("'slack.bot_token' must be your app's xoxb- Bot User OAuth Token")
        if self.mode == "http" and self.signing_secret in ("", EXAMPLE_SIGNING_SECRET):
            problems.append("'slack.signing_secret' still holds the example; copy your app's")
        if self.mode == "socket" and (
            self.app_token in ("", EXAMPLE_APP_TOKEN) or not self.app_token.startswith("xapp-")
        ):
            problems.append("'slack.app_token' must be an xapp- App-Level Token (Socket Mode)")
        if not self.command.startswith("/"):
            problems.append("'slack.command' must start with /")
        if self.pace_seconds < 0:
            problems.append("'slack.pace_seconds' must be 0 or more")
        if problems:
            raise SlackConfigError("; ".join(problems))
