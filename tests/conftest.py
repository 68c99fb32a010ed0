"""Shared fixtures: a fresh workspace on a real SQLite file per test, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def paying_users(count: int) -> list[dict[str, Any]]:
    """Messages for ``count`` users of the models spec config: every other one pays
    (trait ``paid``) and created five projects, the rest one; regions alternate."""
    items: list[dict[str, Any]] = []
    for n in range(count):
        paid = n % 2 == 0
        region = "eu" if n % 3 else "us"
        traits = {"plan": "pro" if paid else "free", "paid": paid, "region": region}
        items.append({"type": "identify", "userId": f"u{n}", "traits": traits})
        for k in range(5 if paid else 1):
            items.append(
                {"type": "track", "userId": f"u{n}", "event": "Created Project",
                 "messageId": f"m{n}-{k}"}
            )  # fmt: skip
    return items


@pytest.fixture
def model_users() -> Callable[[int], list[dict[str, Any]]]:
    """:func:`paying_users`, for the model tests of every layer (API, CLI, e2e)."""
    return paying_users
