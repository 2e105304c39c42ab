"""Configuration: the seed's examples, verbatim, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.hub import (
    HubConfigError,
    MemoryHubAdapter,
    RedisHubAdapter,
    SQLHubAdapter,
    open_persistence,
)
from adapters.hub.config import from_env

SEED_ENV_REDIS = """\
# Redis persistence
GLEITZEIT_HUB_PERSISTENCE=redis
GLEITZEIT_REDIS_URL=redis://localhost:6379
"""
SEED_ENV_SQL = """\
# SQL persistence
GLEITZEIT_HUB_PERSISTENCE=sql
GLEITZEIT_SQL_URL=postgresql://user:pass@localhost/gleitzeit
"""
SEED_YAML = """\
hub:
  persistence:
    type: redis  # or sql
    redis:
      url: redis://localhost:6379
      key_prefix: gleitzeit:hub
    sql:
      url: postgresql://localhost/gleitzeit
      pool_size: 10
  
  providers:
    ollama:
      enable_persistence: true
      persistence_interval: 60  # seconds
    python:
      enable_persistence: false  # Don't persist Docker containers
"""


def env_of(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("GLEITZEIT_HUB_PERSISTENCE", "GLEITZEIT_REDIS_URL", "GLEITZEIT_SQL_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_seeds_redis_environment(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in env_of(SEED_ENV_REDIS).items():
        clean_env.setenv(name, value)
    adapter = open_persistence()
    assert isinstance(adapter, RedisHubAdapter) and adapter.url == "redis://localhost:6379"


def test_the_seeds_sql_environment(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in env_of(SEED_ENV_SQL).items():
        clean_env.setenv(name, value)
    adapter = open_persistence()
    assert isinstance(adapter, SQLHubAdapter)
    assert adapter.url == "postgresql://user:pass@localhost/gleitzeit"


def test_no_environment_means_the_embedded_default(clean_env: pytest.MonkeyPatch) -> None:
    adapter = open_persistence()
    assert isinstance(adapter, SQLHubAdapter) and adapter.url == "sqlite:///hublog.db"


def test_memory_from_the_environment() -> None:
    settings = from_env({"GLEITZEIT_HUB_PERSISTENCE": "memory"})
    assert settings is not None and settings.url == "memory://"
    assert isinstance(open_persistence("memory://"), MemoryHubAdapter)


def test_a_missing_url_variable_is_named() -> None:
    with pytest.raises(HubConfigError, match="GLEITZEIT_SQL_URL"):
        from_env({"GLEITZEIT_HUB_PERSISTENCE": "sql"})
    with pytest.raises(HubConfigError, match="GLEITZEIT_HUB_PERSISTENCE='mongo'"):
        from_env({"GLEITZEIT_HUB_PERSISTENCE": "mongo"})


def test_the_seeds_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(SEED_YAML)
    adapter = open_persistence(path)

    assert isinstance(adapter, RedisHubAdapter) and adapter.url == "redis://localhost:6379"
    assert adapter.session.options == {"key_prefix": "gleitzeit:hub"}
    assert adapter.settings.provider("ollama").enable_persistence
    assert adapter.settings.provider("ollama").persistence_interval == 60
    assert not adapter.settings.provider("python").enable_persistence


def test_the_seeds_yaml_with_type_sql(tmp_path: Path) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(SEED_YAML.replace("type: redis  # or sql", "type: sql"))
    adapter = open_persistence(str(path))
    assert isinstance(adapter, SQLHubAdapter)
    assert adapter.session.options == {"pool_size": 10}


@pytest.mark.parametrize(
    ("change", "key", "line"),
    [
        (("      pool_size: 10", "      pool_size: ten"), "hub.persistence.sql.pool_size", 9),
        (("      key_prefix:", "      key_prefx:"), "hub.persistence.redis.key_prefx", 6),
        (("type: redis  # or sql", "type: mongo"), "hub.persistence.type", 3),
        (
            ("      persistence_interval: 60", "      persistence_interval: -1"),
            "hub.providers.ollama.persistence_interval",
            14,
        ),
    ],
)
def test_a_wrong_key_is_named_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], key: str, line: int
) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(SEED_YAML.replace(*change))
    with pytest.raises(HubConfigError) as raised:
        open_persistence(path)
    assert f"{path}:{line}: {key}:" in str(raised.value)


def test_a_missing_url_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(SEED_YAML.replace("      url: redis://localhost:6379\n", ""))
    with pytest.raises(HubConfigError, match=r"hub\.persistence\.redis\.url is missing"):
        open_persistence(path)


def test_a_url_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(SEED_YAML.replace("url: redis://localhost:6379", "url: sqlite:///x.db"))
    with pytest.raises(HubConfigError, match="hub.persistence.redis.url"):
        open_persistence(path)


# == what a newcomer gets wrong (issue 36, item 18) ================================


def test_a_missing_configuration_file_is_a_hublog_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(HubConfigError) as raised:
        open_persistence(str(path))

    assert str(raised.value) == f"cannot read configuration file {path}: No such file or directory"


@pytest.mark.parametrize(
    "text", ["redis:/localhost:6379", "redis:localhost:6379", "postgresql:/db/g", "sqlite:x.db"]
)
def test_a_mistyped_url_is_not_taken_for_a_file(text: str) -> None:
    with pytest.raises(HubConfigError) as raised:
        open_persistence(text)

    assert "not a store URL" in str(raised.value) and "://" in str(raised.value)
    assert "configuration file" not in str(raised.value)


def test_only_a_url_variable_set_names_the_backend(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("GLEITZEIT_REDIS_URL", "redis://cache:6379/0")

    adapter = open_persistence()

    assert isinstance(adapter, RedisHubAdapter) and adapter.url == "redis://cache:6379/0"
    assert "GLEITZEIT_REDIS_URL" in adapter.settings.source


def test_both_url_variables_without_a_type_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("GLEITZEIT_REDIS_URL", "redis://cache:6379/0")
    clean_env.setenv("GLEITZEIT_SQL_URL", "postgresql://u:s3cret@db/g")

    with pytest.raises(HubConfigError) as raised:
        open_persistence()

    assert "GLEITZEIT_HUB_PERSISTENCE" in str(raised.value) and "s3cret" not in str(raised.value)


@pytest.mark.parametrize("written", ["Redis", "REDIS", "redis"])
def test_the_type_in_the_file_is_read_in_any_case_as_in_the_environment(
    tmp_path: Path, written: str
) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(SEED_YAML.replace("type: redis  # or sql", f"type: {written}"))

    assert isinstance(open_persistence(path), RedisHubAdapter)
    assert from_env({"GLEITZEIT_HUB_PERSISTENCE": written, "GLEITZEIT_REDIS_URL": "redis://h"})


def test_a_bad_url_option_in_the_file_is_named_with_file_line_and_masked_url(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gleitzeit.yaml"
    path.write_text(
        SEED_YAML.replace(
            "url: redis://localhost:6379", "url: redis://:s3cret@h:6379/0?key_prefx=x"
        )
    )

    with pytest.raises(HubConfigError) as raised:
        open_persistence(path)

    message = str(raised.value)
    assert message.startswith(f"{path}:5: hub.persistence.redis.url: unknown option(s) key_prefx")
    assert "redis://:***@h:6379/0?key_prefx=x" in message and "s3cret" not in message


def test_an_empty_argument_says_what_is_expected() -> None:
    with pytest.raises(HubConfigError, match="empty; give a store URL or a YAML file's path"):
        open_persistence("  ")
