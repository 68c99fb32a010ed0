"""The migrations build exactly what ``schema.py`` describes, and record each step.

Unlike ``test_store.py`` this looks inside the database: the schema is what it tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from firstmile.storage import open_store
from firstmile.storage.engine import create_sql_engine
from firstmile.storage.schema import metadata, schema_migrations


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
    rows = migrated.execute(select(schema_migrations)).all()
    assert [row.revision for row in rows] == ["0001"]
    applied_at = rows[0].applied_at
    assert isinstance(applied_at, datetime)
    assert applied_at.utcoffset() is not None
    assert MigrationContext.configure(migrated).get_current_heads() == ("0001",)
