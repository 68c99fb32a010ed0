"""Decide: the exposure log and the history of config versions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out rather than imported from firstmile.storage.schema (see 0001).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("slot", sa.Text(), nullable=False),
        sa.Column("config_version", sa.Text(), nullable=False),
        sa.Column("first_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("profile_id", "item_id", "day", name="pk_exposures"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "config_versions",
        sa.Column("version_id", sa.Text(), nullable=False),
        sa.Column("loaded_at", _TIME, nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version_id"),
    )


def downgrade() -> None:
    op.drop_table("config_versions")
    op.drop_table("exposures")
