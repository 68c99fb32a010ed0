"""The app under test: ``create_app(settings, service=fm)`` on the per-test SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firstmile.api.app import create_app
from firstmile.service import Firstmile
from firstmile.settings import Settings

from .support import TestClient, make_client


@pytest.fixture
def client(settings: Settings, fm: Firstmile) -> Iterator[TestClient]:
    with make_client(create_app(settings, service=fm)) as test_client:
        yield test_client
