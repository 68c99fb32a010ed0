"""The SQL schema of a firstmile store, shared by SQLite and PostgreSQL.

This module is the current shape of the tables; the Alembic migrations in
``firstmile/storage/migrations`` build it step by step, and a test checks that both agree.
There are no foreign keys: every write is an append or an upsert keyed by the caller, and
the constraint checks would cost ingest speed without catching anything the pipeline
does not already guarantee.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``. SQLite has no datetime type, so the value is
    converted to UTC and kept as fixed-width ISO text, which also sorts correctly.
    Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"Naive datetime {value.isoformat()} cannot be stored: "
                "firstmile keeps every time as a timezone-aware UTC datetime."
            )
        value = value.astimezone(UTC)
        # SQLite's DATETIME text has no offset field; it would silently drop tzinfo.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Events and quarantine may outgrow 32-bit ids on PostgreSQL; SQLite needs exactly
# INTEGER for a rowid-aliased autoincrement key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _text(name: str, *, nullable: bool = False, **kwargs: Any) -> Column[str]:
    return Column(name, Text, nullable=nullable, **kwargs)


def _time(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime, nullable=nullable)


def _json(name: str) -> Column[Any]:
    # none_as_null=False (the default): a Python None is stored as JSON ``null``.
    return Column(name, JSON, nullable=False)


metadata = MetaData()

profiles = Table(
    "profiles",
    metadata,
    _text("profile_id", primary_key=True),
    _text("user_id", nullable=True),
    Column("version", Integer, nullable=False),
    _time("created_at"),
    _time("updated_at"),
    _json("data"),  # profile_to_json(profile)
    Index("ix_profiles_user_id", "user_id"),
)

identities = Table(
    "identities",
    metadata,
    _text("kind"),
    _text("value"),
    _text("profile_id"),
    _time("first_seen"),
    PrimaryKeyConstraint("kind", "value", name="pk_identities"),
    Index("ix_identities_profile_id", "profile_id"),
    sqlite_with_rowid=False,
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("source_id"),
    _text("message_id"),
    _text("profile_id"),
    _text("type"),
    _text("name", nullable=True),
    _text("user_id", nullable=True),
    _text("anonymous_id", nullable=True),
    _time("timestamp"),
    _time("received_at"),
    _time("sent_at", nullable=True),
    _time("original_timestamp", nullable=True),
    _json("payload"),
    _json("consent"),
    # The ingest hot path: every extra index here costs insert throughput.
    Index("ix_events_profile_id_timestamp", "profile_id", "timestamp"),
)

seen_messages = Table(
    "seen_messages",
    metadata,
    _text("source_id"),
    _text("message_id"),
    _time("seen_at"),
    PrimaryKeyConstraint("source_id", "message_id", name="pk_seen_messages"),
    sqlite_with_rowid=False,
)

trait_history = Table(
    "trait_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("profile_id"),
    Column("version", Integer, nullable=False),
    _text("trait"),
    _json("old_value"),
    _json("new_value"),
    _time("changed_at"),
    _text("message_id", nullable=True),
    Index("ix_trait_history_profile_id", "profile_id"),
)

consent_ledger = Table(
    "consent_ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("profile_id"),
    _text("purpose"),
    Column("granted", Boolean, nullable=False),
    _text("source"),
    _text("message_id", nullable=True),
    _time("recorded_at"),
    Index("ix_consent_ledger_profile_id", "profile_id"),
)

merges = Table(
    "merges",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("from_profile_id"),
    _text("into_profile_id"),
    _text("reason"),
    _text("outcome"),
    _text("message_id", nullable=True),
    _time("merged_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("source_id"),
    _text("reason"),
    _text("message"),
    _text("field", nullable=True),
    _json("payload"),
    _time("received_at"),
    _text("message_id", nullable=True),
    _text("request_ip", nullable=True),
    _text("status", server_default="pending"),
    _time("resolved_at", nullable=True),
    _text("note", nullable=True),
    Index("ix_quarantine_status_reason", "status", "reason"),
)

ingest_counters = Table(
    "ingest_counters",
    metadata,
    _text("day"),  # ISO date, UTC
    _text("source_id"),
    _text("metric"),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "source_id", "metric", name="pk_ingest_counters"),
    sqlite_with_rowid=False,
)

api_keys = Table(
    "api_keys",
    metadata,
    _text("key_hash", primary_key=True),
    _text("kind"),
    _text("source_id"),
    _text("label"),
    _time("created_at"),
)

# Current segment memberships: one row per profile in a segment, rewritten in real time.
segment_memberships = Table(
    "segment_memberships",
    metadata,
    _text("profile_id"),
    _text("segment_key"),
    _time("entered_at"),
    PrimaryKeyConstraint("profile_id", "segment_key", name="pk_segment_memberships"),
    # Sizes (GROUP BY segment_key), members paged by entry time, and the sweeper's
    # "who is in these segments" all read this index alone.
    Index(
        "ix_segment_memberships_segment_key_entered_at",
        "segment_key",
        "entered_at",
        "profile_id",
    ),
    sqlite_with_rowid=False,
)

# Every entry into and exit from a segment (append-only).
segment_history = Table(
    "segment_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("profile_id"),
    _text("segment_key"),
    _text("change"),  # "entered" or "exited"
    _time("at"),
    _text("config_version"),
    Index("ix_segment_history_profile_id", "profile_id"),
)

# Static segments: fixed lists of profiles (a snapshot of a segment, or uploaded ids).
static_segments = Table(
    "static_segments",
    metadata,
    _text("key", primary_key=True),
    _text("name"),
    _text("description"),
    _text("source"),  # "snapshot" or "upload"
    _text("of_segment", nullable=True),
    _time("created_at"),
    _text("config_version", nullable=True),
)

static_segment_members = Table(
    "static_segment_members",
    metadata,
    _text("key"),
    _text("profile_id"),
    PrimaryKeyConstraint("key", "profile_id", name="pk_static_segment_members"),
    # Merges move a profile's static memberships by profile id.
    Index("ix_static_segment_members_profile_id", "profile_id"),
    sqlite_with_rowid=False,
)

# What decide served: one row per profile, item and day (the first time that day).
exposures = Table(
    "exposures",
    metadata,
    _text("profile_id"),
    _text("item_id"),
    _text("day"),  # ISO date (UTC)
    _text("slot"),
    _text("config_version"),
    _time("first_at"),
    PrimaryKeyConstraint("profile_id", "item_id", "day", name="pk_exposures"),
    sqlite_with_rowid=False,
)

# Every onboarding config version this database has run, with the file as it was.
config_versions = Table(
    "config_versions",
    metadata,
    _text("version_id", primary_key=True),
    _time("loaded_at"),
    _text("source", nullable=True),
    _text("content"),
)

# Experiments and bandits (firstmile.trials): one row per trial and exposed profile, with
# the variant, the bandit context and propensity, and each metric's per-user state.
trial_members = Table(
    "trial_members",
    metadata,
    _text("trial_key"),
    _text("profile_id"),
    _text("kind"),  # "experiment" or "bandit"
    _text("variant"),
    _text("context"),  # a bandit's context key; "" for none
    Column("propensity", Float, nullable=True),
    _text("hash_attribute", nullable=True),
    _text("hash_value", nullable=True),
    _time("exposed_at"),
    _text("config_version"),
    _json("states"),  # {metric: [value, denominator, covariate]}
    PrimaryKeyConstraint("trial_key", "profile_id", name="pk_trial_members"),
    # Ingest finds the trials of the profiles it updates; merges move them.
    Index("ix_trial_members_profile_id", "profile_id"),
    sqlite_with_rowid=False,
)


def _stat(name: str) -> Column[float]:
    return Column(name, Float, nullable=False)


# Mergeable sufficient statistics per trial x context x variant x metric, updated by
# deltas as exposures and events arrive; metric "" counts exposures.
trial_stats = Table(
    "trial_stats",
    metadata,
    _text("trial_key"),
    _text("context"),
    _text("variant"),
    _text("metric"),
    Column("n", BigInteger, nullable=False),
    _stat("sum"),
    _stat("sum_sq"),
    _stat("sum_x"),
    _stat("sum_x_sq"),
    _stat("sum_xy"),
    PrimaryKeyConstraint("trial_key", "context", "variant", "metric", name="pk_trial_stats"),
    sqlite_with_rowid=False,
)

# The traffic split each bandit (and each of its contexts) uses now.
bandit_weights = Table(
    "bandit_weights",
    metadata,
    _text("bandit_key"),
    _text("context"),
    _json("weights"),  # {arm: weight}
    Column("epoch", BigInteger, nullable=False),
    _time("updated_at"),
    _text("config_version"),
    _json("detail"),  # the update's probabilities of being best, reason and warnings
    PrimaryKeyConstraint("bandit_key", "context", name="pk_bandit_weights"),
)

# The model registry: every trained model version with its artifact (a pickle, checked
# against its SHA-256 before loading), metrics, data window and feature schema.
models = Table(
    "models",
    metadata,
    _text("name"),
    Column("version", Integer, nullable=False),
    _text("kind"),  # "personas" | "prediction" | "recommender"
    _text("status"),  # "candidate" | "promoted" | "retired"
    _time("created_at"),
    _time("promoted_at", nullable=True),
    _text("config_version"),
    _text("schema_hash"),
    _json("metrics"),
    _json("meta"),  # data window, rows, library versions, warnings
    _text("sha256"),
    Column("size", BigInteger, nullable=False),
    Column("artifact", LargeBinary, nullable=False),
    PrimaryKeyConstraint("name", "version", name="pk_models"),
)

# Every promotion and rollback, oldest first: what rollback goes back to.
model_promotions = Table(
    "model_promotions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _text("name"),
    Column("version", Integer, nullable=False),
    _time("at"),
    _text("action"),  # "promote" | "rollback"
    Index("ix_model_promotions_name", "name"),
)

# Every migration step applied to this database, with its time (alembic_version only
# keeps the current head). Written by the on_version_apply hook in migrations/env.py.
schema_migrations = Table(
    "schema_migrations",
    metadata,
    _text("revision"),
    _time("applied_at"),
    PrimaryKeyConstraint("revision", "applied_at", name="pk_schema_migrations"),
)
