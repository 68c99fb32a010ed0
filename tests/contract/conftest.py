"""Fixtures for the storage contract suite: a fresh store per test, on every backend.

SQLite is a real file in ``tmp_path``. PostgreSQL is the server named by
``FIRSTMILE_TEST_POSTGRES_URL``; each test gets its own schema (through ``search_path``),
dropped afterwards. When that server is unreachable the PostgreSQL tests are skipped,
or fail when ``CI=true``, so CI cannot pass without running them.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from firstmile.clock import FixedClock
from firstmile.storage import Store, open_store

POSTGRES_URL_ENV = "FIRSTMILE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
START = datetime(2026, 1, 1, tzinfo=UTC)


def postgres_url() -> str:
    """The PostgreSQL server for tests, as a plain libpq URL."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


@functools.cache
def _postgres_problem(url: str) -> str | None:
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def require_postgres() -> str:
    """The test server's URL; skip the test (fail under ``CI=true``) when unreachable."""
    url = postgres_url()
    problem = _postgres_problem(url)
    if problem is not None:
        reason = (
            f"PostgreSQL at {url} is unreachable ({problem}). Start it or set "
            f"{POSTGRES_URL_ENV} to run the PostgreSQL half of the contract suite."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def _with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (not yet migrated) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/firstmile.db"
        return
    server = require_postgres()
    schema = f"test_{uuid.uuid4().hex}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def clock() -> FixedClock:
    """The clock the store fixture tells time with."""
    return FixedClock(START)


@pytest.fixture
def store(store_url: str, clock: FixedClock) -> Iterator[Store]:
    """A migrated, empty store on each backend, closed after the test."""
    with open_store(store_url, clock=clock) as opened:
        opened.migrate()
        yield opened
