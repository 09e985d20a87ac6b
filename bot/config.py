"""Settings for ``backline run``: ``backline.toml``, overlaid by ``BACKLINE_*`` variables."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from adapters.slack.config import SlackConfig
from adapters.xmpp.config import XmppConfig


class ConfigError(Exception):
    """A setting that cannot be used; the message names it and says what is expected."""


@dataclass(frozen=True)
class HttpConfig:
    """The one HTTP server: health, metrics, API and platform webhooks."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class ConsoleConfig:
    """The console adapter (the embedded default)."""

    enabled: bool = True
    member: str = "alice"


@dataclass(frozen=True)
class StorageConfig:
    """The SQLite store."""

    synchronous: str = "normal"  # normal: survives a crash of backline; full: also power cuts


@dataclass(frozen=True)
class Config:
    """Everything ``backline run`` needs."""

    data_dir: Path = Path("data")
    rules_dir: Path = Path("rules")
    log_level: str = "info"
    log_format: str = "text"
    http: HttpConfig = field(default_factory=HttpConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    xmpp: XmppConfig = field(default_factory=XmppConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.data_dir / "backline.db"


def load_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """Read ``path`` (if given or ``./backline.toml`` exists) then apply ``BACKLINE_*`` vars."""
    values: dict[str, Any] = {}
    if path is None and Path("backline.toml").exists():
        path = Path("backline.toml")
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for name, value in env.items():
        if name.startswith("BACKLINE_"):
            _set_env(values, name, value)
    config: Config = _build(Config, values, str(path or "environment"), "")
    for key, allowed in CHOICES.items():
        setting: Any = config
        for part in key.split("."):
            setting = getattr(setting, part)
        if setting not in allowed:
            raise ConfigError(f"'{key}' expects one of: {', '.join(allowed)}")
    return config


TYPE_NAMES = {int: "a whole number (0-65535)", bool: "true or false", str: "text", Path: "a path"}
CHOICES = {
    "log_level": ("debug", "info", "warning", "error", "critical"),
    "log_format": ("text", "json"),
    "storage.synchronous": ("normal", "full"),
}


def _set_env(values: dict[str, Any], name: str, value: str) -> None:
    key = name.removeprefix("BACKLINE_").lower()
    for section in _sections():
        if key.startswith(section + "_"):
            table = values.setdefault(section, {})
            if not isinstance(table, dict):
                raise ConfigError(f"'{section}' must be a table of settings, not {table!r}")
            table[key.removeprefix(section + "_")] = value
            return
    values[key] = value


def _sections() -> list[str]:
    """Names of the settings tables (``[http]``, ``[console]``, one per adapter)."""
    defaults = Config()
    return [
        f.name for f in fields(Config) if hasattr(getattr(defaults, f.name), "__dataclass_fields__")
    ]


def _build(cls: type[Any], values: Mapping[str, Any], where: str, prefix: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(
                f"{where}: unknown setting '{prefix}{key}'; known: {', '.join(known)}"
            )
    out = cls()
    for key, value in values.items():
        default = getattr(out, key)
        out = replace(out, **{key: _convert(default, value, where, prefix + key)})
    return out


def _convert(default: Any, value: Any, where: str, key: str) -> Any:
    if hasattr(default, "__dataclass_fields__"):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: '{key}' must be a table of settings")
        return _build(type(default), value, where, key + ".")
    kind = type(default)
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        if kind is bool and not isinstance(value, bool):
            raise ValueError(value)
        if kind is int:
            whole = isinstance(value, int) and not isinstance(value, bool)
            if not (whole or (isinstance(value, str) and value.strip().isdigit())):
                raise ValueError(value)
            if not 0 <= int(value) <= 65535:
                raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: '{key}' expects a {kind.__name__}, got {value!r}") from None
