"""The initial schema: profiles, identities, the event log, ledgers and ingest state.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out rather than imported from firstmile.storage.schema: a migration must keep
# building the same tables after schema.py has moved on.
_TIME = sa.DateTime(timezone=True)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id"),
    )
    op.create_index("ix_profiles_user_id", "profiles", ["user_id"])

    op.create_table(
        "identities",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name="pk_identities"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_identities_profile_id", "identities", ["profile_id"])

    op.create_table(
        "events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("anonymous_id", sa.Text(), nullable=True),
        sa.Column("timestamp", _TIME, nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("original_timestamp", _TIME, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("consent", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_profile_id_timestamp", "events", ["profile_id", "timestamp"])

    op.create_table(
        "seen_messages",
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("seen_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("source_id", "message_id", name="pk_seen_messages"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "trait_history",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trait", sa.Text(), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=False),
        sa.Column("new_value", sa.JSON(), nullable=False),
        sa.Column("changed_at", _TIME, nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_trait_history_profile_id", "trait_history", ["profile_id"])

    op.create_table(
        "consent_ledger",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_ledger_profile_id", "consent_ledger", ["profile_id"])

    op.create_table(
        "merges",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("from_profile_id", sa.Text(), nullable=False),
        sa.Column("into_profile_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("merged_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "quarantine",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("request_ip", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quarantine_status_reason", "quarantine", ["status", "reason"])

    op.create_table(
        "ingest_counters",
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "source_id", "metric", name="pk_ingest_counters"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("key_hash"),
    )

    op.create_table(
        "schema_migrations",
        sa.Column("revision", sa.Text(), nullable=False),
        sa.Column("applied_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("revision", "applied_at", name="pk_schema_migrations"),
    )


def downgrade() -> None:
    for table in (
        "schema_migrations",
        "api_keys",
        "ingest_counters",
        "quarantine",
        "merges",
        "consent_ledger",
        "trait_history",
        "seen_messages",
        "events",
        "identities",
        "profiles",
    ):
        op.drop_table(table)
