"""OPS-1: `backline run` settings come from backline.toml, overlaid by BACKLINE_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, ConfigError, ConsoleConfig, HttpConfig, load_config


@pytest.fixture(autouse=True)
def _no_local_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so a backline.toml of the checkout is never picked up."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment_ops_1() -> None:
    config = load_config(None, {})
    assert config == Config()
    assert config.http == HttpConfig(host="127.0.0.1", port=8080)
    assert config.console == ConsoleConfig(enabled=True, member="alice")
    assert config.data_dir == Path("data")
    assert config.rules_dir == Path("rules")
    assert config.database == Path("data") / "backline.db"
    assert (config.log_level, config.log_format) == ("info", "text")


def test_settings_file_is_read_ops_1(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
data_dir = "/var/lib/backline"
rules_dir = "/etc/backline/rules"
log_format = "json"

[http]
host = "0.0.0.0"
port = 9000

[console]
enabled = false
member = "bob"
""",
    )
    config = load_config(path, {})
    assert config.data_dir == Path("/var/lib/backline")
    assert config.database == Path("/var/lib/backline/backline.db")
    assert config.rules_dir == Path("/etc/backline/rules")
    assert config.log_format == "json"
    assert config.log_level == "info"  # unset settings keep their default
    assert config.http == HttpConfig(host="0.0.0.0", port=9000)
    assert config.console == ConsoleConfig(enabled=False, member="bob")


def test_backline_toml_in_the_working_folder_is_read_by_default_ops_1(tmp_path: Path) -> None:
    write(tmp_path, "[http]\nport = 9001\n", name="backline.toml")
    assert load_config(None, {}).http.port == 9001


def test_environment_overrides_file_and_is_converted_ops_1(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nhost = "0.0.0.0"\nport = 9000\n[console]\nenabled = true\n')
    env = {
        "BACKLINE_HTTP_PORT": "9090",
        "BACKLINE_CONSOLE_ENABLED": "no",
        "BACKLINE_DATA_DIR": str(tmp_path / "data"),
        "BACKLINE_LOG_LEVEL": "debug",
        "HOME": "/root",  # other variables are not settings
        "PATH": "/usr/bin",
    }
    config = load_config(path, env)
    assert config.http.port == 9090
    assert isinstance(config.http.port, int)
    assert config.http.host == "0.0.0.0"  # from the file, not overridden
    assert config.console.enabled is False
    assert config.data_dir == tmp_path / "data"
    assert config.log_level == "debug"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("YES", True), ("false", False), ("0", False), ("No", False)],
)
def test_boolean_words_from_the_environment_ops_1(value: str, expected: bool) -> None:
    assert load_config(None, {"BACKLINE_CONSOLE_ENABLED": value}).console.enabled is expected


@pytest.mark.parametrize(
    ("env", "named", "words"),
    [
        ({"BACKLINE_HTTP_PORT": "abc"}, "'http.port'", "got 'abc'"),
        ({"BACKLINE_HTTP_PORT": "70000"}, "'http.port'", "70000"),
        ({"BACKLINE_HTTP_PORT": "-1"}, "'http.port'", "-1"),
        ({"BACKLINE_CONSOLE_ENABLED": "maybe"}, "'console.enabled'", "'maybe'"),
        ({"BACKLINE_COLOUR": "blue"}, "unknown setting 'colour'", "known: data_dir"),
        ({"BACKLINE_HTTP_TLS": "on"}, "unknown setting 'http.tls'", "known: host, port"),
    ],
)
def test_bad_environment_values_name_the_setting_ops_1(
    env: dict[str, str], named: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env)
    message = str(caught.value)
    assert message.startswith("environment: ")
    assert named in message
    assert words in message


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[http]\nport = "abc"\n', "'http.port'"),
        ("[http]\nport = true\n", "'http.port'"),
        ('[console]\nenabled = "maybe"\n', "'console.enabled'"),
        ("colour = 'blue'\n", "unknown setting 'colour'"),
        ("http = 8080\n", "'http' must be a table of settings"),
        ("data_dir = 5\n", "'data_dir'"),
    ],
)
def test_bad_file_values_name_the_file_and_setting_ops_1(
    tmp_path: Path, text: str, named: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"{path}: ")
    assert named in str(caught.value)


def test_invalid_toml_names_the_file_and_line_ops_1(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = 80\nhost = "unterminated\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid TOML:")
    assert "line 3" in message


def test_missing_settings_file_is_an_error_ops_1(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read"):
        load_config(path, {})


def test_env_override_of_a_section_the_file_got_wrong_is_a_config_error_ops_1(
    tmp_path: Path,
) -> None:
    """`http = 8080` in the file plus BACKLINE_HTTP_PORT: a clear error, not a TypeError."""
    path = write(tmp_path, "http = 8080\n")
    with pytest.raises(ConfigError, match="'http'"):
        load_config(path, {"BACKLINE_HTTP_PORT": "9000"})


def test_a_fractional_port_is_refused_not_truncated_ops_1(tmp_path: Path) -> None:
    """A port of 8080.5 is a typo; silently listening on 8080 would hide it."""
    path = write(tmp_path, "[http]\nport = 8080.5\n")
    with pytest.raises(ConfigError, match=r"'http\.port'"):
        load_config(path, {})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BACKLINE_LOG_LEVEL": "loud"}, "'log_level'"),
        ({"BACKLINE_LOG_FORMAT": "xml"}, "'log_format'"),
    ],
)
def test_unknown_log_level_or_format_name_the_setting_ops_1(
    env: dict[str, str], named: str
) -> None:
    """OPS-3: a log level `logging` does not know must not crash `run` with a traceback."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, env)
    assert named in str(caught.value)
