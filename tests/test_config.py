"""Settings: layering, substitution, strictness, secrets, paths."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from projectw.config import Settings, iter_fields, load_settings
from projectw.errors import ConfigError, StartupError
from projectw.keys import derive_key, load_or_create_secret
from projectw.paths import resolve_paths

GOOD_SECRET = "k3Y-9f8a7s6d5f4g3h2j1k0lqwertyuiopZX"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_safe() -> None:
    settings = load_settings(environ={}).settings
    assert settings.host == "127.0.0.1"
    assert settings.port == 5000
    assert settings.secret_key is None
    assert settings.runner.embedded is True
    assert settings.mode == "appliance"


def test_precedence_default_file_env_cli(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yml", "port: 6000\nlog_level: warning\nhost: 10.0.0.1\n")
    loaded = load_settings(
        config,
        cli={"host": "127.0.0.2"},
        environ={"PROJECTW_PORT": "7000", "PROJECTW_HOST": "127.0.0.3"},
    )
    settings = loaded.settings
    assert (settings.port, settings.log_level, settings.host) == (7000, "warning", "127.0.0.2")
    assert loaded.source_of("port") == "env"
    assert loaded.source_of("log_level") == "file"
    assert loaded.source_of("host") == "cli"
    assert loaded.source_of("log_format") == "default"


def test_nested_settings_from_env_use_double_underscore() -> None:
    loaded = load_settings(environ={"PROJECTW_RUNNER__EMBEDDED": "false"})
    assert loaded.settings.runner.embedded is False
    assert loaded.source_of("runner.embedded") == "env"


def test_env_substitution_in_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW_PORT", "6123")
    monkeypatch.setenv("PW_DB_PASSWORD", "s3cret")
    config = write(
        tmp_path / "c.yml",
        "port: !ENV ${PW_PORT}\n"
        "log_level: !ENV ${PW_LEVEL:debug}\n"
        "database_url: !ENV postgresql://app:${PW_DB_PASSWORD}@db.example:5432/pw\n",
    )
    settings = load_settings(config, environ={}).settings
    assert settings.port == 6123
    assert settings.log_level == "debug"
    assert settings.database_url == "postgresql+asyncpg://app:s3cret@db.example:5432/pw"


def test_env_substitution_of_a_missing_variable_names_it(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yml", "port: !ENV ${PW_SURELY_NOT_SET_ANYWHERE}\n")
    with pytest.raises(ConfigError, match="PW_SURELY_NOT_SET_ANYWHERE"):
        load_settings(config, environ={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: blue\n", "unknown setting 'colour'"),
        ("runner:\n  embeded: true\n", "unknown setting 'runner.embeded'"),
        ("port: lots\n", "setting 'port'"),
        ("database_url: 'mysql://x@y/z'\n", "unsupported database 'mysql'"),
        ("database_url: 'not a url'\n", "not a valid database URL"),
        ("secret_key: changeme\n", "placeholder"),
        ("secret_key: ''\n", "must not be empty"),
        ("secret_key: 'aB3$dE5^gH'\n", "at least 32 characters"),
        ("- a list\n", "must contain a mapping"),
        ("port: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "c.yml", text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("$", r"\$")):
        load_settings(config, environ={})


def test_unknown_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="PROJECTW_PROT"):
        load_settings(environ={"PROJECTW_PROT": "1"})


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.yml", environ={})


def test_config_file_found_in_the_platform_config_dir() -> None:
    config_dir = resolve_paths().config_dir
    config_dir.mkdir(parents=True)
    write(config_dir / "config.yml", "port: 5999\n")
    loaded = load_settings(environ={})
    assert loaded.settings.port == 5999
    assert loaded.config_file == config_dir / "config.yml"


def test_postgres_url_gets_the_async_driver() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    settings = load_settings(environ={"PROJECTW_DATABASE_URL": url}).settings
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def test_data_dir_env_moves_data_cache_and_logs(tmp_path: Path) -> None:
    root = tmp_path / "pw"
    settings = load_settings(environ={"PROJECTW_DATA_DIR": str(root)}).settings
    paths = settings.paths
    assert paths.data_dir == root
    assert paths.cache_dir.parent == root
    assert paths.log_dir.parent == root
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{root / 'projectw.db'}"


def test_secret_is_generated_once_with_private_permissions(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    first = load_or_create_secret(settings)
    second = load_or_create_secret(settings)
    assert first == second
    assert len(first) >= 32
    mode = stat.S_IMODE(os.stat(settings.paths.secret_key_file).st_mode)
    assert mode == 0o600


def test_configured_secret_is_used_and_keys_differ_by_purpose(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", secret_key=GOOD_SECRET)
    secret = load_or_create_secret(settings)
    assert secret == GOOD_SECRET.encode()
    assert not settings.paths.secret_key_file.exists()
    assert derive_key(secret, "a") != derive_key(secret, "b")
    assert len(derive_key(secret, "a")) == 32


def test_a_tampered_secret_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    settings.paths.data_dir.mkdir(parents=True)
    settings.paths.secret_key_file.write_text("changeme\n")
    with pytest.raises(StartupError, match="placeholder"):
        load_or_create_secret(settings)


def test_every_setting_has_help_text() -> None:
    for name, help_text, _default in iter_fields():
        assert help_text.strip(), f"setting {name} has no description"
