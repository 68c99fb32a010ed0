"""Alembic environment for firstmile's store.

``SqlStore.migrate()`` runs this with a live connection in ``config.attributes`` (no
alembic.ini). A developer can also point the ``alembic`` command at a database through
the ``sqlalchemy.url`` option, for example to autogenerate the next revision.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, create_engine

from firstmile.storage.schema import metadata, schema_migrations


def record_step(
    ctx: MigrationContext,
    step: MigrationInfo,
    heads: Collection[Any],
    run_args: Mapping[str, Any],
) -> None:
    """Append every applied upgrade to ``schema_migrations`` (alembic keeps only the head)."""
    if not step.is_upgrade or step.is_stamp or ctx.connection is None:
        return
    now = datetime.now(UTC)
    ctx.connection.execute(
        schema_migrations.insert(),
        [{"revision": rev, "applied_at": now} for rev in step.up_revision_ids],
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        on_version_apply=record_step,
        render_as_batch=True,  # SQLite can only ALTER through table copies
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "No database to migrate: call firstmile's Store.migrate(), or set the "
            "sqlalchemy.url option of the alembic command."
        )
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


# Alembic sets context.config while it runs this file; a plain import (such as
# pytest --doctest-modules collecting the package) has nothing to migrate.
if hasattr(context, "config"):
    _main()
