"""Experiments and bandits: who was exposed to what, per-user metric state, sufficient
statistics per trial x context x variant x metric, and bandit weights.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out rather than imported from firstmile.storage.schema (see 0001).
_TIME = sa.DateTime(timezone=True)


def _stat(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Float(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "trial_members",
        sa.Column("trial_key", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=True),
        sa.Column("hash_attribute", sa.Text(), nullable=True),
        sa.Column("hash_value", sa.Text(), nullable=True),
        sa.Column("exposed_at", _TIME, nullable=False),
        sa.Column("config_version", sa.Text(), nullable=False),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("trial_key", "profile_id", name="pk_trial_members"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_trial_members_profile_id", "trial_members", ["profile_id"])
    op.create_table(
        "trial_stats",
        sa.Column("trial_key", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        _stat("sum"),
        _stat("sum_sq"),
        _stat("sum_x"),
        _stat("sum_x_sq"),
        _stat("sum_xy"),
        sa.PrimaryKeyConstraint("trial_key", "context", "variant", "metric", name="pk_trial_stats"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "bandit_weights",
        sa.Column("bandit_key", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("config_version", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("bandit_key", "context", name="pk_bandit_weights"),
    )


def downgrade() -> None:
    op.drop_table("bandit_weights")
    op.drop_table("trial_stats")
    op.drop_index("ix_trial_members_profile_id", table_name="trial_members")
    op.drop_table("trial_members")
