"""Settings for ``backline run``: ``backline.toml``, overlaid by ``BACKLINE_*`` variables.

One typed validator reads every table: the core's own (``[http]``, ``[storage]``) and each
adapter plugin's, from the plugin's settings dataclass. Every problem is reported at once,
each naming the file and line (or the variable) and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_type_hints

from bot.port.plugin import Plugin, discover
from bot.port.settings import choice, port
from bot.rules.errors import RuleError


class ConfigError(Exception):
    """Settings that cannot be used; the message names each one and says what is expected."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class HttpConfig:
    """The one HTTP server: health, metrics, API and platform webhooks."""

    host: str = "127.0.0.1"
    port: int = port(8080)
    # ``Authorization: Bearer`` token the API requires; empty: none (loopback only, please).
    api_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class StorageConfig:
    """The SQLite store."""

    synchronous: str = choice("normal", "normal", "full")  # full: also survives power cuts


@dataclass(frozen=True)
class Config:
    """Everything ``backline run`` needs; adapter tables are read as ``config.NAME``."""

    data_dir: Path = Path("data")
    rules_dir: Path = Path("rules")
    log_level: str = choice("info", "debug", "info", "warning", "error", "critical")
    log_format: str = choice("text", "text", "json")
    http: HttpConfig = field(default_factory=HttpConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    adapters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.data_dir / "backline.db"

    def __getattr__(self, name: str) -> Any:
        adapters = self.__dict__.get("adapters", {})
        if name in adapters:
            return adapters[name]
        raise AttributeError(name)


def load_config(
    path: Path | None, env: Mapping[str, str], plugins: Mapping[str, Plugin] | None = None
) -> Config:
    """Read ``path`` (if given or ``./backline.toml`` exists) then apply ``BACKLINE_*`` vars."""
    plugins = discover() if plugins is None else plugins
    if path is None and Path("backline.toml").exists():
        path = Path("backline.toml")
    text, values = "", {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            values = tomllib.loads(text)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    source = str(path) if path else "environment"
    check = _Check(source, text)
    base = {k: v for k, v in values.items() if k not in plugins}
    config: Config = check.section(Config(), base, (), frozenset(plugins))
    adapters = {
        name: check.section(plugin.settings(), values.get(name), (name,))
        for name, plugin in plugins.items()
    }
    check.where, check.text = "environment", ""
    env_values = _env_tables(env, [*_tables(Config), *plugins])
    config = check.section(config, {k: v for k, v in env_values.items() if k not in plugins}, ())
    for name in plugins:
        if name in env_values:
            adapters[name] = check.section(adapters[name], env_values[name], (name,))
    check.where, check.text = source, text
    for name, settings in adapters.items():
        check.enabled(settings, (name,), from_env=set(env_values.get(name, {})))
    if check.errors:
        raise ConfigError([str(e) for e in check.errors])
    return replace(config, adapters=adapters)


def _tables(cls: type[Any]) -> list[str]:
    return [f.name for f in fields(cls) if is_dataclass(f.default_factory)]


def _env_tables(env: Mapping[str, str], tables: list[str]) -> dict[str, Any]:
    """``BACKLINE_HTTP_PORT=9000`` → ``{"http": {"port": "9000"}}``."""
    values: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("BACKLINE_"):
            continue
        key = name.removeprefix("BACKLINE_").lower()
        table = next((t for t in tables if key.startswith(t + "_")), None)
        if table is None:
            values[key] = value
        else:
            values.setdefault(table, {})[key.removeprefix(table + "_")] = value
    return values


class _Check:
    """Converts TOML or environment values to settings dataclasses, collecting every error."""

    def __init__(self, where: str, text: str) -> None:
        self.where = where
        self.text = text
        self.errors: list[RuleError] = []

    def fail(self, path: tuple[str, ...], message: str, *, env: bool = False) -> None:
        key, where = ".".join(path), "environment" if env else self.where
        line = None if env else _line_of(self.text, path)
        self.errors.append(RuleError(where, line, f"'{key}'", message))

    def section(
        self, current: Any, data: Any, path: tuple[str, ...], others: frozenset[str] = frozenset()
    ) -> Any:
        if data is None:
            return current
        if not isinstance(data, Mapping):
            self.fail(path, "must be a table of settings")
            return current
        hints = get_type_hints(type(current))
        known = {f.name: f for f in fields(current) if f.name != "adapters"}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                names = ", ".join([*known, *sorted(others)])
                self.fail((*path, key), f"unknown setting; known: {names}")
                continue
            default = getattr(current, key)
            if is_dataclass(default):
                values[key] = self.section(default, value, (*path, key))
            else:
                meta = known[key].metadata
                values[key] = self.value(hints[key], meta, value, default, (*path, key))
        return replace(current, **values)

    def value(
        self, hint: Any, meta: Mapping[str, Any], value: Any, default: Any, path: tuple[str, ...]
    ) -> Any:
        converted = _convert(hint, value)
        if converted is None:
            expected = "a port (0-65535)" if meta.get("port") else _NAMES.get(hint, str(hint))
            self.fail(path, f"expects {expected}, got {value!r}")
            return default
        if meta.get("port") and not 0 <= converted <= 65535:
            self.fail(path, f"expects a port (0-65535), got {value!r}")
            return default
        choices = meta.get("choices")
        if choices and converted not in choices:
            self.fail(path, f"expects one of: {', '.join(choices)}; got {value!r}")
            return default
        return converted

    def enabled(self, settings: Any, path: tuple[str, ...], from_env: set[str]) -> None:
        """An enabled adapter's placeholders and cross-field problems.

        Each is reported where its value came from: a variable in ``from_env``, or the file.
        """
        if not getattr(settings, "enabled", False):
            return
        for f in fields(settings):
            examples = f.metadata.get("examples")
            value = getattr(settings, f.name)
            if examples is not None and (value in examples or not str(value).strip()):
                message = "still holds the example value; set your own"
                self.fail((*path, f.name), message, env=f.name in from_env)
        for problem in settings.problems():
            self.errors.append(RuleError(self.where, None, "", problem))


_NAMES = {
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    str: "text",
    Path: "a path",
}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _convert(hint: Any, value: Any) -> Any:
    """``value`` as ``hint``, or None when it is not one (strings come from the environment)."""
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
            return value.lower() in _TRUE
        return None
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        return None
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value) if isinstance(value, str) else None
        except ValueError:
            return None
    if hint in (str, Path):
        return hint(value) if isinstance(value, str) else None
    return None


def _line_of(text: str, path: tuple[str, ...]) -> int | None:
    """The line of ``key =`` in its ``[table]`` of a TOML text, if it is there."""
    if not text or not path:
        return None
    *tables, key = path
    table = ".".join(tables)
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if header:
            current = header[1].strip()
        elif current == table and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return None
