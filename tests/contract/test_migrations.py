"""The migrations build exactly what ``schema.py`` describes, and record each step.

Unlike ``test_store.py`` this looks inside the database: the schema is what it tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from firstmile.profiles.model import Profile, profile_to_json
from firstmile.storage import open_store
from firstmile.storage.engine import create_sql_engine
from firstmile.storage.migrate import alembic_config
from firstmile.storage.schema import metadata, profiles, schema_migrations

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def migrated(store_url: str) -> Iterator[Connection]:
    """A connection to a database that ``Store.migrate()`` ran on twice."""
    with open_store(store_url) as store:
        store.migrate()
        store.migrate()
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_sql_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def test_schema_py_and_the_migrations_agree(migrated: Connection) -> None:
    assert compare_metadata(MigrationContext.configure(migrated), metadata) == []


def test_each_step_is_applied_once_and_recorded(migrated: Connection) -> None:
    t = schema_migrations
    rows = migrated.execute(select(t).order_by(t.c.applied_at, t.c.revision)).all()
    assert [row.revision for row in rows] == ["0001", "0002", "0003", "0004", "0005", "0006"]
    for row in rows:
        assert isinstance(row.applied_at, datetime)
        assert row.applied_at.utcoffset() is not None
    assert MigrationContext.configure(migrated).get_current_heads() == ("0006",)


def test_a_database_at_0001_upgrades_and_keeps_its_data(store_url: str) -> None:
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_sql_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(
                profiles.insert(),
                {
                    "profile_id": "p1",
                    "user_id": None,
                    "version": 1,
                    "created_at": START,
                    "updated_at": START,
                    "data": profile_to_json(Profile("p1", None, START, START)),
                },
            )
    finally:
        engine.dispose()
    with open_store(store_url) as store:
        store.migrate()
        assert store.get_profile("p1") == Profile("p1", None, START, START)
        assert store.segment_sizes() == {}
