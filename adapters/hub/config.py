"""Configuration in the seed's shape: environment variables and the YAML file.

Environment::

    GLEITZEIT_HUB_PERSISTENCE=redis|sql|memory   (any case; sqlite, postgresql: sql)
    GLEITZEIT_REDIS_URL=redis://localhost:6379
    GLEITZEIT_SQL_URL=postgresql://user:pass@localhost/gleitzeit

Without ``GLEITZEIT_HUB_PERSISTENCE`` the one URL variable that is set names
the store (both set is refused: say which); without any, the embedded
``sqlite:///hublog.db``.

YAML (``hub.persistence…``, ``hub.providers.<name>…``) is decoded into the
typed Structs below; an unknown key, a wrong type, a missing URL or a bad
URL option raises :class:`HubConfigError` naming the key, the file and the
line, and the URL with its password masked.  The URL and its options are
checked here as the backend would check them (:func:`adapters.stores.check`),
so every configuration error surfaces at :func:`resolve`, with its place.
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

from adapters import urls
from adapters.stores import BACKENDS
from adapters.stores import check as check_url
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
_TYPES: dict[str, PersistenceType] = {
    "redis": "redis",
    "sql": "sql",
    "sqlite": "sql",
    "postgresql": "sql",
    "postgres": "sql",
    "memory": "memory",
}
"""What a persistence type may be written as (any case)."""
_SCHEMES = sorted({scheme for entry in BACKENDS for scheme in entry.schemes}, key=len, reverse=True)


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class RedisSection(_Section, frozen=True, kw_only=True):
    url: str | None = None
    key_prefix: str = "gleitzeit:hub"


class SQLSection(_Section, frozen=True, kw_only=True):
    url: str | None = None
    pool_size: Annotated[int, msgspec.Meta(ge=1)] = 10


class PersistenceSection(_Section, frozen=True, kw_only=True):
    type: str
    """redis, sql or memory, in any case (checked by :func:`from_config`)."""
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

    Raises: HubConfigError for an unknown type, a missing URL variable, or
    both URL variables set without a type.
    """
    env = os.environ if environ is None else environ
    written = env.get(ENV_TYPE, "").strip()
    if not written:
        return _from_url_variables(env)
    kind = _TYPES.get(written.lower())
    if kind is None:
        raise HubConfigError(f"{ENV_TYPE}={written!r}: expected one of redis, sql, memory")
    if kind == "memory":
        return PersistenceSettings(type="memory", url="memory://", source="environment")
    name = ENV_REDIS if kind == "redis" else ENV_SQL
    url = env.get(name, "").strip()
    if not url:
        raise HubConfigError(f"{ENV_TYPE}={written} needs {name} (the store URL); it is not set")
    return _checked(kind, url, {}, f"environment ({name})")


def _from_url_variables(env: Mapping[str, str]) -> PersistenceSettings | None:
    """Without a type, the one URL variable set names the store."""
    given = [
        (kind, name)
        for kind, name in (("redis", ENV_REDIS), ("sql", ENV_SQL))
        if env.get(name, "").strip()
    ]
    if len(given) > 1:
        raise HubConfigError(
            f"both {ENV_REDIS} and {ENV_SQL} are set but {ENV_TYPE} is not: "
            f"set {ENV_TYPE}=redis or {ENV_TYPE}=sql to say which store to use"
        )
    if not given:
        return None
    kind, name = given[0]
    return _checked(kind, env[name].strip(), {}, f"environment ({name}; {ENV_TYPE} unset)")


def from_file(path: str | os.PathLike[str]) -> PersistenceSettings:
    """The settings of a YAML configuration file.

    Raises: HubConfigError naming the key, the file and the line.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise HubConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise HubConfigError(f"{path}: not a text file ({exc.reason}); is it YAML?") from None
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
    return from_config(config, source=source, text=text)


def from_config(
    config: ConfigFile, *, source: str = "configuration", text: str | None = None
) -> PersistenceSettings:
    """Settings from decoded sections (``text``: the YAML they came from,
    for line numbers).

    Raises: HubConfigError for an unknown type, a missing or mismatched URL
    or a bad URL option (naming the key, and the line when there is text).
    """

    def at(key: str) -> str:
        line = None if text is None else _line_of(text, key.split("."))
        return f"{source}:{line}: {key}" if line else f"{source}: {key}"

    p = config.hub.persistence
    kind = _TYPES.get(p.type.strip().lower())
    if kind is None:
        where = at("hub.persistence.type")
        raise HubConfigError(f"{where}: {p.type!r} is not one of redis, sql, memory")
    if kind == "memory":
        settings = PersistenceSettings(type="memory", url="memory://", source=source)
    elif kind == "redis":
        key = "hub.persistence.redis.url"
        url = _required(p.redis.url, key, source)
        settings = _checked("redis", url, {"key_prefix": p.redis.key_prefix}, at(key))
    else:
        key = "hub.persistence.sql.url"
        url = _required(p.sql.url, key, source)
        settings = _checked("sql", url, {"pool_size": p.sql.pool_size}, at(key))
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
    if isinstance(url_or_config, str):
        if not url_or_config.strip():
            raise HubConfigError("argument: empty; give a store URL or a YAML file's path")
        _refuse_a_url_missing_slashes(url_or_config)
    if isinstance(url_or_config, str | os.PathLike):
        return from_file(url_or_config)
    raise HubConfigError(f"cannot configure persistence from {type(url_or_config).__name__}")


def _refuse_a_url_missing_slashes(text: str) -> None:
    """``redis:/localhost:6379`` is a URL typed wrong, not a file to read."""
    scheme = next((sc for sc in _SCHEMES if text.lower().startswith(sc + ":")), None)
    if scheme is not None:
        rest = text[len(scheme) + 1 :].lstrip("/")
        meant = f"{scheme}:///{rest}" if scheme.startswith("sqlite") else f"{scheme}://{rest}"
        raise HubConfigError(
            f"argument: {urls.redact(text)!r} is not a store URL: {scheme} URLs are written "
            f"{scheme}://… (did you mean {urls.redact(meant)!r}?)"
        )


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
    backend = _parse(url, where, check=False).backend
    if backend not in _BACKENDS[kind]:
        raise HubConfigError(f"{where}: a {kind} store needs a {kind} URL, got a {backend} one")
    _parse(url, where, **options)  # its options too, as the backend will check them
    return PersistenceSettings(type=kind, url=url, options=options, source=where)  # type: ignore[arg-type]


def _parse(url: str, where: str, *, check: bool = True, **options: Any) -> Any:
    try:
        return check_url(url, **options) if check else parse_url(url)
    except StoreConfigurationError as exc:
        raise HubConfigError(f"{where}: {exc}") from None


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
