"""Static segments (fixed lists of profiles) and their members.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out rather than imported from firstmile.storage.schema (see 0001).
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "static_segments",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("of_segment", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("config_version", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "static_segment_members",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "profile_id", name="pk_static_segment_members"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_static_segment_members_profile_id", "static_segment_members", ["profile_id"]
    )


def downgrade() -> None:
    op.drop_table("static_segment_members")
    op.drop_table("static_segments")
