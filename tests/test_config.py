"""OPS-1: `backline run` settings come from backline.toml, overlaid by BACKLINE_* variables.

One validator reads the core's tables and every adapter plugin's: each problem names the
file and line (or ``environment``) and the key, and all of them are reported at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.console import PLUGIN as CONSOLE
from adapters.console.config import ConsoleConfig
from bot.config import Config, ConfigError, HttpConfig, StorageConfig, load_config
from bot.port import Plugin, choice, port, secret

PLUGINS = {"console": CONSOLE}


@pytest.fixture(autouse=True)
def _no_local_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so a backline.toml of the checkout is never picked up."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path | None, env: dict[str, str]) -> Config:
    """Settings with the console as the one installed plugin."""
    return load_config(path, env, PLUGINS)


def problems(
    path: Path | None, env: dict[str, str], plugins: dict[str, Plugin] = PLUGINS
) -> list[str]:
    """Every problem ``load_config`` reports (it must refuse)."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, env, plugins)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_defaults_without_file_or_environment_ops_1() -> None:
    config = load(None, {})
    assert config == Config(adapters={"console": ConsoleConfig()})
    assert config.http == HttpConfig(host="127.0.0.1", port=8080)
    assert config.storage == StorageConfig(synchronous="normal")
    assert config.console == ConsoleConfig(enabled=True, member="alice")
    assert config.data_dir == Path("data")
    assert config.rules_dir == Path("rules")
    assert config.database == Path("data") / "backline.db"
    assert (config.log_level, config.log_format) == ("info", "text")


def test_installed_plugins_are_discovered_console_first_ops_1() -> None:
    """OPS-1: without ``plugins``, every installed adapter's table is read, the console first."""
    config = load_config(None, {"BACKLINE_CONSOLE_MEMBER": "bob"})
    assert next(iter(config.adapters)) == "console"
    assert {"console", "slack", "xmpp"} <= set(config.adapters)
    assert config.console == ConsoleConfig(member="bob")
    assert not config.slack.enabled and not config.xmpp.enabled  # off unless enabled


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

[storage]
synchronous = "full"

[console]
enabled = false
member = "bob"
""",
    )
    config = load(path, {})
    assert config.data_dir == Path("/var/lib/backline")
    assert config.database == Path("/var/lib/backline/backline.db")
    assert config.rules_dir == Path("/etc/backline/rules")
    assert config.log_format == "json"
    assert config.log_level == "info"  # unset settings keep their default
    assert config.http == HttpConfig(host="0.0.0.0", port=9000)
    assert config.storage.synchronous == "full"
    assert config.console == ConsoleConfig(enabled=False, member="bob")


def test_backline_toml_in_the_working_folder_is_read_by_default_ops_1(tmp_path: Path) -> None:
    write(tmp_path, "[http]\nport = 9001\n", name="backline.toml")
    assert load(None, {}).http.port == 9001


def test_environment_overrides_file_and_is_converted_ops_1(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nhost = "0.0.0.0"\nport = 9000\n[console]\nenabled = true\n')
    env = {
        "BACKLINE_HTTP_PORT": "9090",
        "BACKLINE_CONSOLE_ENABLED": "no",
        "BACKLINE_CONSOLE_MEMBER": "chen",
        "BACKLINE_DATA_DIR": str(tmp_path / "data"),
        "BACKLINE_LOG_LEVEL": "debug",
        "HOME": "/root",  # other variables are not settings
        "PATH": "/usr/bin",
    }
    config = load(path, env)
    assert config.http.port == 9090
    assert isinstance(config.http.port, int)
    assert config.http.host == "0.0.0.0"  # from the file, not overridden
    assert config.console == ConsoleConfig(enabled=False, member="chen")
    assert config.data_dir == tmp_path / "data"
    assert config.log_level == "debug"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("1", True),
        ("YES", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("No", False),
        ("off", False),
    ],
)
def test_boolean_words_from_the_environment_ops_1(value: str, expected: bool) -> None:
    assert load(None, {"BACKLINE_CONSOLE_ENABLED": value}).console.enabled is expected


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"BACKLINE_HTTP_PORT": "abc"}, "'http.port': expects a port (0-65535), got 'abc'"),
        ({"BACKLINE_HTTP_PORT": "70000"}, "'http.port': expects a port (0-65535), got '70000'"),
        ({"BACKLINE_HTTP_PORT": "-1"}, "'http.port': expects a port (0-65535), got '-1'"),
        ({"BACKLINE_CONSOLE_ENABLED": "maybe"}, "'console.enabled': expects true or false"),
        ({"BACKLINE_COLOUR": "blue"}, "'colour': unknown setting; known: data_dir, rules_dir"),
        ({"BACKLINE_HTTP_TLS": "on"}, "'http.tls': unknown setting; known: host, port"),
        ({"BACKLINE_CONSOLE_COLOUR": "1"}, "'console.colour': unknown setting; known: enabled"),
    ],
)
def test_bad_environment_values_name_the_setting_ops_1(env: dict[str, str], problem: str) -> None:
    [message] = problems(None, env)
    assert message.startswith(f"environment: {problem}")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ('[http]\nport = "abc"\n', 2, "'http.port': expects a port (0-65535), got 'abc'"),
        ("[http]\nhost = 'x'\nport = true\n", 3, "'http.port': expects a port"),
        ("[http]\nport = 8080.5\n", 2, "'http.port': expects a port"),  # a typo, not 8080
        ('[console]\nenabled = "maybe"\n', 2, "'console.enabled': expects true or false"),
        ("[console]\nmember = 7\n", 2, "'console.member': expects text, got 7"),
        ("\ncolour = 'blue'\n", 2, "'colour': unknown setting; known: data_dir"),
        ("http = 8080\n", 1, "'http': must be a table of settings"),
        ("console = 1\n", 1, "'console': must be a table of settings"),
        ("data_dir = 5\n", 1, "'data_dir': expects a path, got 5"),
        (
            "[storage]\nsynchronous = 'off'\n",
            2,
            "'storage.synchronous': expects one of: normal, full",
        ),
    ],
)
def test_bad_file_values_name_the_file_line_and_setting_ops_1(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = write(tmp_path, text)
    [message] = problems(path, {})
    assert message.startswith(f"{path}:{line}: {problem}")


def test_a_setting_without_a_line_of_its_own_still_names_the_file_and_key_ops_1(
    tmp_path: Path,
) -> None:
    """An inline table has no ``port =`` line under ``[http]``: the file and key are named."""
    path = write(tmp_path, 'http = { port = "abc" }\n')
    assert problems(path, {}) == [f"{path}: 'http.port': expects a port (0-65535), got 'abc'"]


def test_unknown_top_level_setting_lists_the_plugin_tables_too_ops_1(tmp_path: Path) -> None:
    path = write(tmp_path, "colour = 'blue'\n")
    [message] = problems(path, {})
    assert message == (
        f"{path}:1: 'colour': unknown setting; known: data_dir, rules_dir, log_level,"
        " log_format, http, storage, console"
    )


def test_every_problem_is_reported_at_once_ops_1(tmp_path: Path) -> None:
    """OPS-1: one run names every bad setting, the file's (with lines) then the environment's."""
    path = write(
        tmp_path,
        """log_level = "loud"

[http]
port = 70000
tls = true

[console]
enabled = "maybe"
""",
    )
    env = {"BACKLINE_LOG_FORMAT": "xml", "BACKLINE_STORAGE_SYNCHRONOUS": "sometimes"}
    found = problems(path, env)
    assert [p.split(" expects")[0].split(" unknown")[0] for p in found] == [
        f"{path}:1: 'log_level':",
        f"{path}:4: 'http.port':",
        f"{path}:5: 'http.tls':",
        f"{path}:8: 'console.enabled':",
        "environment: 'log_format':",
        "environment: 'storage.synchronous':",
    ]


def test_invalid_toml_names_the_file_and_line_ops_1(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = 80\nhost = "unterminated\n')
    [message] = problems(path, {})
    assert message.startswith(f"{path}: invalid TOML:")
    assert "line 3" in message


def test_missing_settings_file_is_an_error_ops_1(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    [message] = problems(path, {})
    assert message.startswith(f"{path}: cannot read")


def test_env_override_of_a_section_the_file_got_wrong_is_a_config_error_ops_1(
    tmp_path: Path,
) -> None:
    """`http = 8080` in the file plus BACKLINE_HTTP_PORT: a clear error, not a TypeError."""
    path = write(tmp_path, "http = 8080\n")
    assert problems(path, {"BACKLINE_HTTP_PORT": "9000"}) == [
        f"{path}:1: 'http': must be a table of settings"
    ]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"BACKLINE_LOG_LEVEL": "loud"}, "'log_level': expects one of: debug, info, warning"),
        ({"BACKLINE_LOG_FORMAT": "xml"}, "'log_format': expects one of: text, json; got 'xml'"),
    ],
)
def test_unknown_log_level_or_format_name_the_setting_ops_1(
    env: dict[str, str], problem: str
) -> None:
    """OPS-3: a log level `logging` does not know must not crash `run` with a traceback."""
    [message] = problems(None, env)
    assert message.startswith(f"environment: {problem}")


# --- an adapter plugin's own settings -------------------------------------------------------


@dataclass(frozen=True)
class ChatSettings:
    """A made-up adapter's settings: every kind of field the validator knows."""

    enabled: bool = False
    token: str = secret("your-token", "changeme")
    mode: str = choice("push", "push", "poll")
    listen: int = port(7000)
    backlog: int = 10  # a whole number, not a port
    pace: float = 1.0
    spool: Path = Path("spool")

    def problems(self) -> list[str]:
        """Polling has no backlog."""
        if self.mode == "poll" and self.backlog:
            return ["chat.backlog: must be 0 in poll mode"]
        return []


def nothing(settings: Any, port: Any, http: Any) -> None:
    """No adapter to run."""


CHAT = {"chat": Plugin("chat", ChatSettings, nothing)}


def test_a_plugins_table_is_read_as_its_settings_dataclass_ops_1(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[chat]\nenabled = true\ntoken = "t-123"\nmode = "poll"\nbacklog = 0\npace = 2\n',
    )
    config = load_config(path, {"BACKLINE_CHAT_LISTEN": "7100"}, CHAT)
    assert config.chat == ChatSettings(
        enabled=True, token="t-123", mode="poll", listen=7100, backlog=0, pace=2.0
    )
    assert isinstance(config.chat.pace, float)
    assert config.adapters == {"chat": config.chat}  # the console is not installed here
    with pytest.raises(AttributeError):
        _ = config.console


@pytest.mark.parametrize("backlog", [65536, 1_000_000, -5])
def test_whole_numbers_that_are_not_ports_are_not_capped_ops_1(
    tmp_path: Path, backlog: int
) -> None:
    path = write(tmp_path, f"[chat]\nbacklog = {backlog}\n")
    assert load_config(path, {}, CHAT).chat.backlog == backlog
    assert load_config(None, {"BACKLINE_CHAT_BACKLOG": str(backlog)}, CHAT).chat.backlog == backlog


def test_a_plugins_bad_settings_are_all_named_with_file_line_and_key_ops_1(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        '[chat]\nlisten = 65536\nmode = "pull"\npace = "fast"\nbacklog = 1.5\ncolour = 1\n',
    )
    assert problems(path, {"BACKLINE_CHAT_SPOOL": "x", "BACKLINE_CHAT_LISTEN": "-2"}, CHAT) == [
        f"{path}:2: 'chat.listen': expects a port (0-65535), got 65536",
        f"{path}:3: 'chat.mode': expects one of: push, poll; got 'pull'",
        f"{path}:4: 'chat.pace': expects a number, got 'fast'",
        f"{path}:5: 'chat.backlog': expects a whole number, got 1.5",
        f"{path}:6: 'chat.colour': unknown setting; known: enabled, token, mode, listen,"
        " backlog, pace, spool",
        "environment: 'chat.listen': expects a port (0-65535), got '-2'",
    ]


PLACEHOLDER = "'chat.token': still holds the example value; set your own"


@pytest.mark.parametrize("token", ["your-token", "changeme", "", "  "])
def test_an_enabled_adapter_with_a_placeholder_secret_is_refused_ops_1(
    tmp_path: Path, token: str
) -> None:
    """OPS-1: a secret still holding its example (or nothing) never starts an adapter; the
    problem names the line that set it."""
    path = write(tmp_path, f'[chat]\nenabled = true\ntoken = "{token}"\n')
    assert problems(path, {}, CHAT) == [f"{path}:3: {PLACEHOLDER}"]


def test_a_placeholder_secret_is_named_where_it_came_from_ops_1(tmp_path: Path) -> None:
    """The default kept (no line to name), or a placeholder set by a variable."""
    assert problems(None, {"BACKLINE_CHAT_ENABLED": "true"}, CHAT) == [
        f"environment: {PLACEHOLDER}"
    ]
    path = write(tmp_path, "[chat]\nenabled = true\n")
    assert problems(path, {}, CHAT) == [f"{path}: {PLACEHOLDER}"]
    assert problems(path, {"BACKLINE_CHAT_TOKEN": "changeme"}, CHAT) == [
        f"environment: {PLACEHOLDER}"
    ]
    assert load_config(path, {"BACKLINE_CHAT_TOKEN": "t-1"}, CHAT).chat.token == "t-1"


def test_a_disabled_adapter_may_keep_its_placeholders_ops_1(tmp_path: Path) -> None:
    path = write(tmp_path, '[chat]\nenabled = false\ntoken = "changeme"\n')
    assert load_config(path, {}, CHAT).chat == ChatSettings(token="changeme")
    assert load_config(None, {}, CHAT).chat == ChatSettings()


def test_an_enabled_adapters_own_checks_across_fields_are_reported_ops_1(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, '[chat]\nenabled = true\ntoken = "t-1"\nmode = "poll"\n')
    assert problems(path, {}, CHAT) == [f"{path}: chat.backlog: must be 0 in poll mode"]
    # disabled, the same settings are not checked
    disabled = write(tmp_path, '[chat]\ntoken = "t-1"\nmode = "poll"\n', name="off.toml")
    assert load_config(disabled, {}, CHAT).chat.mode == "poll"
