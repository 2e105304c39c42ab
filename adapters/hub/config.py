"""Configuration in the seed's shape: environment variables and the YAML file.

Environment::

    GLEITZEIT_HUB_PERSISTENCE=redis|sql|memory
    GLEITZEIT_REDIS_URL=redis://localhost:6379
    GLEITZEIT_SQL_URL=postgresql://user:pass@localhost/gleitzeit

YAML (``hub.persistence…``, ``hub.providers.<name>…``) is decoded into the
typed Structs below; an unknown key, a wrong type or a missing URL raises
:class:`HubConfigError` naming the key, the file and the line.  The chosen
URL and options go to ``open_store``, whose backend settings
(``SQLSettings`` / ``RedisSettings.from_url``) check them once more.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import msgspec.yaml
import yaml

from adapters.stores import parse as parse_url
from eventstore.errors import StoreConfigurationError

from .errors import HubConfigError

DEFAULT_URL = "sqlite:///hublog.db"
ENV_TYPE, ENV_REDIS, ENV_SQL = (
    "GLEITZEIT_HUB_PERSISTENCE",
    "GLEITZEIT_REDIS_URL",
    "GLEITZEIT_SQL_URL",
)
PersistenceType = Literal["redis", "sql", "memory"]
_BACKENDS = {"redis": ("redis",), "sql": ("sqlite", "postgresql"), "memory": ("memory",)}


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class RedisSection(_Section, frozen=True, kw_only=True):
    url: str | None = None
    key_prefix: str = "gleitzeit:hub"


class SQLSection(_Section, frozen=True, kw_only=True):
    url: str | None = None
    pool_size: Annotated[int, msgspec.Meta(ge=1)] = 10


class PersistenceSection(_Section, frozen=True, kw_only=True):
    type: PersistenceType
    redis: RedisSection = RedisSection()
    sql: SQLSection = SQLSection()


class ProviderSection(_Section, frozen=True, kw_only=True):
    enable_persistence: bool = False
    persistence_interval: Annotated[float, msgspec.Meta(gt=0)] = 60.0


class HubSection(_Section, frozen=True, kw_only=True):
    persistence: PersistenceSection
    providers: dict[str, ProviderSection] = {}


class ConfigFile(_Section, frozen=True, kw_only=True):
    hub: HubSection


class PersistenceSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What to open: a store URL, its options, and where that was decided."""

    type: PersistenceType
    url: str
    options: dict[str, Any] = {}
    source: str = "default"
    providers: dict[str, ProviderSection] = {}

    def provider(self, name: str) -> ProviderSection:
        """The provider's section (persistence off, 60 s, when absent)."""
        return self.providers.get(name, ProviderSection())


def from_env(environ: Mapping[str, str] | None = None) -> PersistenceSettings | None:
    """The settings the environment names, or None when it names none.

    Raises: HubConfigError for an unknown type or a missing URL variable.
    """
    env = os.environ if environ is None else environ
    kind = env.get(ENV_TYPE, "").strip().lower()
    if not kind:
        return None
    if kind not in _BACKENDS:
        raise HubConfigError(f"{ENV_TYPE}={kind!r}: expected one of redis, sql, memory")
    if kind == "memory":
        return PersistenceSettings(type="memory", url="memory://", source="environment")
    name = ENV_REDIS if kind == "redis" else ENV_SQL
    url = env.get(name, "").strip()
    if not url:
        raise HubConfigError(f"{ENV_TYPE}={kind} needs {name} (the store URL); it is not set")
    return _checked(kind, url, {}, f"environment ({name})")


def from_file(path: str | os.PathLike[str]) -> PersistenceSettings:
    """The settings of a YAML configuration file.

    Raises: HubConfigError naming the key, the file and the line.
    """
    text = Path(path).read_text()
    return from_yaml(text, source=str(path))


def from_yaml(text: str, *, source: str = "<yaml>") -> PersistenceSettings:
    """The settings of YAML text (``source`` names it in messages).

    Raises: HubConfigError naming the key, the source and the line.
    """
    try:
        config = msgspec.yaml.decode(text, type=ConfigFile)
    except msgspec.ValidationError as exc:
        raise HubConfigError(_located(str(exc), text, source)) from exc
    except msgspec.DecodeError as exc:
        raise HubConfigError(f"{source}: not valid YAML: {exc}") from exc
    return from_config(config, source=source)


def from_config(config: ConfigFile, *, source: str = "configuration") -> PersistenceSettings:
    """Settings from decoded sections.

    Raises: HubConfigError for a missing or mismatched URL (naming the key).
    """
    p = config.hub.persistence
    if p.type == "memory":
        settings = PersistenceSettings(type="memory", url="memory://", source=source)
    elif p.type == "redis":
        key = "hub.persistence.redis.url"
        url = _required(p.redis.url, key, source)
        settings = _checked("redis", url, {"key_prefix": p.redis.key_prefix}, f"{source} ({key})")
    else:
        key = "hub.persistence.sql.url"
        url = _required(p.sql.url, key, source)
        settings = _checked("sql", url, {"pool_size": p.sql.pool_size}, f"{source} ({key})")
    return msgspec.structs.replace(settings, providers=dict(config.hub.providers))


def resolve(url_or_config: object = None) -> PersistenceSettings:
    """Settings for :func:`open_persistence`'s argument: None (the
    environment, else ``sqlite:///hublog.db``), a URL, a YAML file path, a
    mapping shaped like the file, a ``ConfigFile`` or ``PersistenceSettings``.

    Raises: HubConfigError.
    """
    if url_or_config is None:
        return from_env() or _checked("sql", DEFAULT_URL, {}, "default")
    if isinstance(url_or_config, PersistenceSettings):
        return url_or_config
    if isinstance(url_or_config, ConfigFile):
        return from_config(url_or_config)
    if isinstance(url_or_config, Mapping):
        try:
            config = msgspec.convert(url_or_config, ConfigFile)
        except msgspec.ValidationError as exc:
            raise HubConfigError(f"configuration: {exc}") from exc
        return from_config(config)
    if isinstance(url_or_config, str) and "://" in url_or_config:
        return _checked(_type_of(url_or_config), url_or_config, {}, "argument")
    if isinstance(url_or_config, str | os.PathLike):
        return from_file(url_or_config)
    raise HubConfigError(f"cannot configure persistence from {type(url_or_config).__name__}")


def _required(url: str | None, key: str, source: str) -> str:
    if not url:
        raise HubConfigError(f"{source}: {key} is missing (the store URL)")
    return url


def _type_of(url: str) -> PersistenceType:
    backend = _parse(url, "argument").backend
    kind: PersistenceType
    for kind in ("redis", "sql", "memory"):
        if backend in _BACKENDS[kind]:
            return kind
    raise HubConfigError(f"argument: no persistence type for a {backend} URL")


def _checked(kind: str, url: str, options: dict[str, Any], where: str) -> PersistenceSettings:
    backend = _parse(url, where).backend
    if backend not in _BACKENDS[kind]:
        raise HubConfigError(f"{where}: a {kind} store needs a {kind} URL, got a {backend} one")
    return PersistenceSettings(type=kind, url=url, options=options, source=where)  # type: ignore[arg-type]


def _parse(url: str, where: str) -> Any:
    try:
        return parse_url(url)
    except StoreConfigurationError as exc:
        raise HubConfigError(f"{where}: {exc}") from exc


# --- where in the file -------------------------------------------------------

_PATH = re.compile(r"at `\$((?:\.[^.`\[]+|\[\d+\]|\[\.\.\.\])*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


def _located(message: str, text: str, source: str) -> str:
    """msgspec's message with the dotted key and ``file:line`` of the fault."""
    match = _PATH.search(message)
    path = (
        match.group(1).replace("providers[...]", f"providers.{_bad_provider(text)}")
        if match
        else ""
    )
    parts = [p for p in re.split(r"\.|\[(\d+)\]", path) if p]
    unknown = _UNKNOWN.search(message)
    if unknown:
        parts.append(unknown.group(1))
    key = ".".join(parts) or "(top level)"
    line = _line_of(text, parts)
    where = f"{source}:{line}" if line else source
    detail = _PATH.sub("", message).rstrip(" -")
    return f"{where}: {key}: {detail}"


def _bad_provider(text: str) -> str:
    """Which ``hub.providers`` entry fails (msgspec names a dict key ``[...]``)."""
    providers = ((yaml.safe_load(text) or {}).get("hub") or {}).get("providers") or {}
    for name, section in providers.items():
        try:
            msgspec.convert(section, ProviderSection)
        except msgspec.ValidationError:
            return str(name)
    return "[...]"


def _line_of(text: str, parts: list[str]) -> int | None:
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in parts:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if k.value == part), None)
        if found is None:
            break
        line = found[0].start_mark.line + 1
        node = found[1]
    return line
