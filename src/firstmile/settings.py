"""Typed settings: ``FIRSTMILE_*`` environment variables > settings file > defaults.

Nothing here runs at import time. Build settings explicitly with :func:`load_settings`
(the CLI and :func:`firstmile.api.app.create_app` do) and pass them down.

The settings file is TOML (``settings.toml`` in the workspace that ``firstmile init``
creates); every key is the lower-case field name without the prefix::

    database_url = "sqlite:///firstmile.db"
    consent_analytics = "opt-out"

Relative SQLite paths in the file are resolved against the file's folder, so a workspace
can be moved.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from firstmile.errors import ConfigError

SETTINGS_FILE_NAME = "settings.toml"

ConsentRegime = Literal["opt-in", "opt-out"]


class Settings(BaseSettings):
    """Every setting of firstmile, with its default and what it does."""

    model_config = SettingsConfigDict(env_prefix="FIRSTMILE_", extra="forbid", frozen=True)

    home: Path = Field(
        default=Path("."),
        description="The workspace folder: settings file, database and demo output live here.",
    )
    database_url: str = Field(
        default="",
        description="Where data is stored. Empty means sqlite:///<home>/firstmile.db.",
    )
    host: str = Field(default="127.0.0.1", description="Address `firstmile serve` binds to.")
    port: int = Field(default=8300, ge=0, le=65535, description="Port `firstmile serve` binds to.")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies trusted to set X-Forwarded-For (comma-separated IPs or CIDRs, or "
        "`*`): the client address (for browser traffic's country) is read from it.",
    )
    config_file: str = Field(
        default="firstmile.yaml",
        description="The onboarding config (segments, scores), relative to home. When the "
        "file is absent no segments are evaluated.",
    )
    sweep_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often `serve` re-evaluates time-dependent segments (relative "
        "time, rolling windows, decaying scores); 0 turns the sweeper off.",
    )
    consent_analytics: ConsentRegime = Field(
        default="opt-out",
        description="`opt-out`: behavioural data is kept until a user denies `analytics`; "
        "`opt-in`: nothing behavioural is kept until they grant it.",
    )
    consent_personalization: ConsentRegime = Field(
        default="opt-out", description="Regime for `personalization` when a user said nothing."
    )
    consent_marketing: ConsentRegime = Field(
        default="opt-in", description="Regime for `marketing` when a user said nothing."
    )
    max_message_bytes: int = Field(default=32 * 1024, gt=0, description="Largest single message.")
    max_request_bytes: int = Field(
        default=500 * 1024, gt=0, description="Largest request body after decompression."
    )
    max_batch_items: int = Field(default=2500, gt=0, description="Most messages in one batch.")
    max_compression_ratio: int = Field(
        default=100,
        gt=1,
        description="Refuse compressed bodies that inflate more than this many times, once "
        "past 1 MiB (a body is never inflated past max_request_bytes in any case).",
    )
    rate_limit_per_second: float = Field(
        default=1000.0,
        ge=0,
        description="Sustained requests per second per write key before 429; 0 turns it off.",
    )
    rate_limit_burst: int = Field(default=2000, gt=0, description="Requests a key may burst.")
    session_timeout_minutes: int = Field(
        default=30, gt=0, description="Inactivity that ends a session."
    )
    coerce_string_values: bool = Field(
        default=True,
        description='Turn "true"/"false" and canonical numeric strings in traits and '
        "properties into booleans and numbers.",
    )
    decide_budget_ms: float = Field(
        default=50.0,
        gt=0,
        le=10_000,
        description="Time budget of one decision; a slot that runs over falls back to its "
        "default (reason `fallback`).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Server log level."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings reads the environment (or the mapping it is given) itself. If
        # pydantic-settings read os.environ as well, it would override `environ={}`.
        return (init_settings,)

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def config_path(self) -> Path:
        """The onboarding config file's path."""
        return (self.home / self.config_file).resolve()

    @property
    def resolved_database_url(self) -> str:
        """The database URL with the embedded default filled in."""
        if not self.database_url:
            return f"sqlite:///{self.home / 'firstmile.db'}"
        scheme, separator, path = self.database_url.partition(":///")
        if (
            separator
            and scheme.lower() in ("sqlite", "sqlite+pysqlite")
            and path
            and path != ":memory:"
            and not path.startswith(("/", "~"))  # absolute, or the user's home folder
        ):
            return f"{scheme}:///{self.home / path}"
        return self.database_url


def _read_settings_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the file or delete it.") from exc


def load_settings(
    *,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build :class:`Settings` from overrides, the environment and the workspace file.

    ``home`` (or ``FIRSTMILE_HOME``, or the current folder) is where ``settings.toml``
    is looked up.

    Examples
    --------
    >>> s = load_settings(environ={"FIRSTMILE_PORT": "9000"}, home=Path("/tmp"))
    >>> s.port, s.consent_analytics
    (9000, 'opt-out')
    """
    env = dict(os.environ if environ is None else environ)
    if home is None:
        home = Path(env.get("FIRSTMILE_HOME", "."))
    home = home.expanduser().resolve()
    file_values = {}
    settings_file = home / SETTINGS_FILE_NAME
    if settings_file.is_file():
        file_values = _read_settings_file(settings_file)
    # Precedence: explicit overrides > environment > file > defaults.
    values: dict[str, Any] = {**file_values}
    for name in Settings.model_fields:
        key = f"FIRSTMILE_{name.upper()}"
        if key in env:
            values[name] = env[key]
    values.update(overrides)
    values["home"] = home
    try:
        # Validate from a plain dict so the process environment is read exactly once, above.
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"Invalid settings ({problems}). Set them as FIRSTMILE_<NAME> or in {settings_file}."
        ) from exc


def settings_reference() -> str:
    """The settings table of ``docs/settings.md`` (a test keeps the page in sync)."""
    lines = [
        "| setting | environment variable | default | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for name, info in Settings.model_fields.items():
        default = info.default
        shown = "current folder" if name == "home" else (repr(default) if default != "" else '""')
        lines.append(
            f"| `{name}` | `FIRSTMILE_{name.upper()}` | `{shown}` | {info.description or ''} |"
        )
    return "\n".join(lines) + "\n"
