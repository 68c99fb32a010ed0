"""Run the Alembic migrations shipped in ``firstmile/storage/migrations`` from code."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")

# Key of the PostgreSQL advisory lock held while migrating ("firstmil" in ASCII), so
# several API processes starting at once apply each step exactly once.
_PG_MIGRATION_LOCK: Final = 0x66697273746D696C


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for firstmile's migrations, without any alembic.ini.

    Parameters
    ----------
    connection
        Run against this connection (and inside its transaction) when given.
    """
    config = Config()
    # ConfigParser interpolates "%", which a folder name may contain.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> None:
    """Apply every pending migration inside the caller's open transaction."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
    command.upgrade(alembic_config(connection), "head")
