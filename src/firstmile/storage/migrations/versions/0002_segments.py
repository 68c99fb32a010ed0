"""Segment memberships (current) and segment history (every entry and exit).

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out rather than imported from firstmile.storage.schema (see 0001).
_TIME = sa.DateTime(timezone=True)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "segment_memberships",
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("segment_key", sa.Text(), nullable=False),
        sa.Column("entered_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("profile_id", "segment_key", name="pk_segment_memberships"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_segment_memberships_segment_key_entered_at",
        "segment_memberships",
        ["segment_key", "entered_at", "profile_id"],
    )

    op.create_table(
        "segment_history",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("segment_key", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("config_version", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_segment_history_profile_id", "segment_history", ["profile_id"])


def downgrade() -> None:
    op.drop_table("segment_history")
    op.drop_table("segment_memberships")
