"""`backline matrix register` and the [matrix] settings (ADP-3, OPS-1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from adapters.matrix import PLUGIN
from adapters.matrix.config import EXAMPLE_AS_TOKEN, EXAMPLE_HS_TOKEN, MatrixConfig
from adapters.matrix.registration import registration
from bot.cli import main
from bot.config import Config, ConfigError, load_config


def registered(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["matrix", "register", *args]) == 0
    found: dict[str, object] = yaml.safe_load(capsys.readouterr().out)
    return found


def test_register_prints_a_registration_with_fresh_tokens_adp_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ADP-3: the registration names the URL, the bot and exclusive namespaces for puppets
    and routing aliases; each run makes new random tokens."""
    first = registered(capsys, "--url", "http://127.0.0.1:8080", "--server-name", "example.org")
    second = registered(capsys, "--url", "http://127.0.0.1:8080", "--server-name", "example.org")
    assert first["url"] == "http://127.0.0.1:8080"
    assert first["sender_localpart"] == "backline"
    tokens = {first["as_token"], first["hs_token"], second["as_token"], second["hs_token"]}
    assert len(tokens) == 4 and all(len(str(t)) >= 40 for t in tokens)
    namespaces = first["namespaces"]
    assert isinstance(namespaces, dict)
    users, aliases = namespaces["users"], namespaces["aliases"]
    assert users == [{"exclusive": True, "regex": r"@backline_.*:example\.org"}]
    assert aliases == [{"exclusive": True, "regex": r"#support:example\.org"}]
    assert re.fullmatch(users[0]["regex"], "@backline_customer_ann:example.org")
    assert not re.fullmatch(users[0]["regex"], "@alice:example.org")
    assert first["rate_limited"] is False


def test_register_refuses_bad_arguments_naming_each_adp_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ADP-3: a bad URL or localpart exits 2 and prints nothing to stdout."""
    assert main(["matrix", "register", "--url", "localhost:8080", "--bot", "Bot!"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert "--url 'localhost:8080'" in out.err and "'matrix.bot_localpart'" in out.err


def load(**values: str) -> Config:
    env = {f"BACKLINE_MATRIX_{k.upper()}": v for k, v in values.items()}
    return load_config(None, env, {"matrix": PLUGIN})


def test_settings_refuse_example_tokens_when_enabled_ops_1() -> None:
    """OPS-1: the example tokens refuse to start an enabled adapter; a disabled one is fine."""
    with pytest.raises(ConfigError) as raised:
        load(enabled="true")
    found = "\n".join(raised.value.problems)
    assert "matrix.as_token" in found and "matrix.hs_token" in found
    assert not load().adapters["matrix"].enabled
    good = load(enabled="true", as_token="a" * 32, hs_token="h" * 32, server_name="example.org")
    assert good.adapters["matrix"].server_name == "example.org"
    same = MatrixConfig(as_token="x", hs_token="x", homeserver="ftp://x")
    text = " ".join(same.problems())
    assert "must differ" in text and "'matrix.homeserver'" in text


def test_the_shipped_registration_template_matches_what_register_prints_adp_3() -> None:
    """ADP-3: manifests/matrix/registration.yaml has the generated shape, example tokens."""
    root = Path(__file__).resolve().parents[3] / "manifests" / "matrix"
    template = yaml.safe_load((root / "registration.yaml").read_text(encoding="utf-8"))
    made = registration("http://127.0.0.1:8080", MatrixConfig(server_name="example.org"))
    assert set(template) == set(made)
    assert template["namespaces"] == made["namespaces"]
    assert (template["as_token"], template["hs_token"]) == (EXAMPLE_AS_TOKEN, EXAMPLE_HS_TOKEN)
    snippet = yaml.safe_load((root / "homeserver-snippet.yaml").read_text(encoding="utf-8"))
    assert len(snippet["app_service_config_files"]) == 1
    assert snippet["experimental_features"]["msc3202_transaction_extensions"] is True
