"""Tests for firstmile.settings: precedence, validation messages and database paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from firstmile.clock import FixedClock
from firstmile.errors import ConfigError
from firstmile.service import Firstmile
from firstmile.settings import SETTINGS_FILE_NAME, Settings, load_settings, settings_reference


def write_file(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / SETTINGS_FILE_NAME).write_text(text, encoding="utf-8")


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, environ={})
    assert settings.home == tmp_path.resolve()
    assert settings.port == 8300
    assert (settings.consent_analytics, settings.consent_marketing) == ("opt-out", "opt-in")
    assert settings.max_message_bytes == 32 * 1024
    assert settings.max_request_bytes == 500 * 1024
    assert settings.max_batch_items == 2500
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/firstmile.db"


@pytest.mark.parametrize(
    ("in_file", "in_env", "override", "expected"),
    [
        (False, False, False, 8300),
        (True, False, False, 1001),
        (True, True, False, 1002),
        (False, True, False, 1002),
        (True, True, True, 1003),
        (True, False, True, 1003),
        (False, False, True, 1003),
    ],
)
def test_precedence_override_env_file_default(
    tmp_path: Path, in_file: bool, in_env: bool, override: bool, expected: int
) -> None:
    if in_file:
        write_file(tmp_path, "port = 1001\n")
    environ = {"FIRSTMILE_PORT": "1002"} if in_env else {}
    overrides: dict[str, Any] = {"port": 1003} if override else {}
    assert load_settings(home=tmp_path, environ=environ, **overrides).port == expected


def test_the_environment_is_read_from_the_process_only_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRSTMILE_PORT", "1234")
    assert load_settings(home=tmp_path, environ={}).port == 8300
    assert load_settings(home=tmp_path).port == 1234


def test_home_comes_from_firstmile_home_and_relative_homes_are_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws"
    write_file(workspace, 'consent_marketing = "opt-out"\n')
    from_env = load_settings(environ={"FIRSTMILE_HOME": str(workspace)})
    assert from_env.home == workspace.resolve()
    assert from_env.consent_marketing == "opt-out"  # the file of that home was read
    monkeypatch.chdir(tmp_path)
    relative = load_settings(home=Path("ws"), environ={})
    assert relative.home == workspace.resolve()
    assert relative.home.is_absolute()


@pytest.mark.parametrize(
    ("environ", "value"),
    [
        ({"FIRSTMILE_COERCE_STRING_VALUES": "false"}, False),
        ({"FIRSTMILE_COERCE_STRING_VALUES": "0"}, False),
        ({"FIRSTMILE_COERCE_STRING_VALUES": "true"}, True),
        ({}, True),
    ],
)
def test_environment_values_are_converted(environ: dict[str, str], value: bool) -> None:
    assert load_settings(home=Path("/tmp"), environ=environ).coerce_string_values is value


@pytest.mark.parametrize(
    ("file_text", "environ", "overrides", "field"),
    [
        ("", {"FIRSTMILE_PORT": "eighty"}, {}, "port"),
        ("", {"FIRSTMILE_PORT": "70000"}, {}, "port"),
        ("", {"FIRSTMILE_CONSENT_ANALYTICS": "maybe"}, {}, "consent_analytics"),
        ("", {"FIRSTMILE_LOG_LEVEL": "loud"}, {}, "log_level"),
        ("", {}, {"max_batch_items": 0}, "max_batch_items"),
        ("", {}, {"max_compression_ratio": 1}, "max_compression_ratio"),
        ("", {}, {"session_timeout_minutes": -5}, "session_timeout_minutes"),
        ("", {}, {"rate_limit_per_second": -1}, "rate_limit_per_second"),
        ('consent_marketing = "sometimes"\n', {}, {}, "consent_marketing"),
        ("prot = 8000\n", {}, {}, "prot"),  # a typo in the file is not silently ignored
        ("", {}, {"unknown_setting": 1}, "unknown_setting"),
    ],
)
def test_bad_settings_raise_a_config_error_naming_the_field(
    tmp_path: Path,
    file_text: str,
    environ: dict[str, str],
    overrides: dict[str, Any],
    field: str,
) -> None:
    if file_text:
        write_file(tmp_path, file_text)
    with pytest.raises(ConfigError, match=rf"Invalid settings \({field}: ") as err:
        load_settings(home=tmp_path, environ=environ, **overrides)
    assert "FIRSTMILE_<NAME>" in err.value.message  # says where to fix it
    assert str(tmp_path / SETTINGS_FILE_NAME) in err.value.message
    assert (err.value.code, err.value.exit_code) == ("config_error", 78)


def test_every_bad_setting_is_named_at_once(tmp_path: Path) -> None:
    environ = {"FIRSTMILE_PORT": "x", "FIRSTMILE_CONSENT_MARKETING": "never"}
    with pytest.raises(ConfigError) as err:
        load_settings(home=tmp_path, environ=environ)
    assert "port:" in err.value.message
    assert "consent_marketing:" in err.value.message


def test_a_settings_file_that_is_not_toml_is_a_config_error(tmp_path: Path) -> None:
    write_file(tmp_path, "port = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_settings(home=tmp_path, environ={})
    assert str(tmp_path / SETTINGS_FILE_NAME) in err.value.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "sqlite:///{home}/firstmile.db"),
        ("sqlite:///data/fm.db", "sqlite:///{home}/data/fm.db"),
        ("sqlite:///fm.db", "sqlite:///{home}/fm.db"),
        ("sqlite+pysqlite:///fm.db", "sqlite+pysqlite:///{home}/fm.db"),
        ("sqlite:////srv/fm.db", "sqlite:////srv/fm.db"),
        ("sqlite:///~/fm.db", "sqlite:///~/fm.db"),  # the user's home folder, expanded on open
        ("sqlite:///:memory:", "sqlite:///:memory:"),  # refused when opened, with a hint
        ("postgresql://fm@db:5432/fm", "postgresql://fm@db:5432/fm"),
    ],
)
def test_relative_sqlite_paths_are_resolved_against_home(
    tmp_path: Path, url: str, expected: str
) -> None:
    settings = load_settings(home=tmp_path, environ={}, database_url=url)
    assert settings.resolved_database_url == expected.format(home=tmp_path.resolve())


def test_a_workspace_with_a_relative_database_can_be_opened_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    workspace = tmp_path / "ws"
    write_file(workspace, 'database_url = "sqlite:///data/events.db"\n')
    monkeypatch.chdir(tmp_path)
    with Firstmile.open(load_settings(home=workspace, environ={}), clock=clock) as fm:
        fm.ingest_items([{"type": "identify", "userId": "u1"}])
    assert (workspace / "data" / "events.db").is_file()
    assert not (tmp_path / "data").exists()


def test_settings_are_frozen(settings: Settings) -> None:
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1


def test_the_reference_lists_every_setting_with_its_variable() -> None:
    reference = settings_reference()
    for name in Settings.model_fields:
        assert f"| `{name}` | `FIRSTMILE_{name.upper()}` |" in reference
