"""Shared fixtures: a fresh workspace on a real SQLite file per test, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firstmile.clock import FixedClock
from firstmile.service import Firstmile
from firstmile.settings import Settings, load_settings

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a workspace in tmp_path, ignoring the developer's environment."""
    return load_settings(home=tmp_path, environ={})


@pytest.fixture
def fm(settings: Settings, clock: FixedClock) -> Iterator[Firstmile]:
    """The library on a real SQLite file, with a fixed clock."""
    with Firstmile.open(settings, clock=clock) as service:
        yield service


@pytest.fixture
def write_key(fm: Firstmile) -> str:
    return fm.create_key("write", label="test")
