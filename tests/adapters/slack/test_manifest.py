"""manifest.yaml agrees with the code: command, events, scopes, URLs (ADP-2)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from adapters.slack.adapter import EVENTS
from adapters.slack.config import SlackConfig

REPO = Path(__file__).resolve().parents[3]
MANIFEST = yaml.safe_load((REPO / "manifests/slack/manifest.yaml").read_text(encoding="utf-8"))
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "adapters/slack").glob("*.py"))
# Web API method → the bot scope it needs (Slack's method docs).
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
}


def test_the_slash_command_is_the_one_the_code_listens_to_adp_2() -> None:
    """ADP-2: exactly one command, `/bl`, posting to the adapter's path."""
    commands = MANIFEST["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [SlackConfig().command]
    assert commands[0]["url"].endswith(SlackConfig().path)
    settings = MANIFEST["settings"]
    assert settings["event_subscriptions"]["request_url"].endswith(SlackConfig().path)
    assert settings["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_events_agree_with_the_listeners_adp_2() -> None:
    """ADP-2: `message` listens to DMs and group DMs; App Home is subscribed; nothing else."""
    subscribed = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    expected = {"app_home_opened", "message.im", "message.mpim"}
    assert subscribed == expected
    assert {e.split(".")[0] for e in subscribed} == set(EVENTS)
    for event in EVENTS:
        assert f'self.app.event("{event}")' in SOURCES


def test_scopes_cover_every_web_api_call_and_no_more_adp_2() -> None:
    """ADP-2: each Web API method the code calls has its scope; each scope is used."""
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    called = set(re.findall(r"self\.client\.(\w+)\(", SOURCES))
    assert called >= {"chat_postMessage", "chat_update", "conversations_open", "views_publish"}
    for method in called:
        if method in SCOPES:
            assert SCOPES[method] in scopes, method
    opens_group_dms = "group(" in SOURCES
    assert {"im:write", "commands", "im:history"} <= scopes
    assert ("mpim:write" in scopes) == opens_group_dms
    assert ("mpim:history" in scopes) == ("message.mpim" in str(MANIFEST))
    unused = scopes - {
        *SCOPES.values(),
        "commands",
        "im:write",
        "mpim:write",
        "im:history",
        "mpim:history",
    }
    assert unused == set()
