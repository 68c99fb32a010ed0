"""The SQL side of experiments and bandits: members, sufficient statistics, bandit weights.

Mixed into :class:`~firstmile.storage.sql.SqlWriteTransaction` (writes inside one
transaction) and :class:`~firstmile.storage.sql.SqlStore` (reads), so ``sql.py`` keeps to
the ingest and profile tables. Statistics are added as deltas with one upsert per row
(``n = n + excluded.n``, ...), the same text on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Table, bindparam, select

from firstmile.storage import schema as s
from firstmile.storage.base import (
    BanditWeights,
    MetricState,
    StatsKey,
    StatsSums,
    StoredEvent,
    TrialKind,
    TrialMember,
)
from firstmile.storage.engine import json_loads

_MEMBER_COLUMNS: Final = (
    "trial_key",
    "profile_id",
    "kind",
    "variant",
    "context",
    "propensity",
    "hash_attribute",
    "hash_value",
    "exposed_at",
    "config_version",
    "states",
)
_STATS_COLUMNS: Final = (
    "trial_key",
    "context",
    "variant",
    "metric",
    "n",
    "sum",
    "sum_sq",
    "sum_x",
    "sum_x_sq",
    "sum_xy",
)
_STATS_UPSERT: Final = (
    "ON CONFLICT (trial_key, context, variant, metric) DO UPDATE SET "
    + ", ".join(f"{c} = trial_stats.{c} + excluded.{c}" for c in _STATS_COLUMNS[4:])
)
_WEIGHT_COLUMNS: Final = (
    "bandit_key",
    "context",
    "weights",
    "epoch",
    "updated_at",
    "config_version",
    "detail",
)
_WEIGHT_UPSERT: Final = "ON CONFLICT (bandit_key, context) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in _WEIGHT_COLUMNS[2:]
)
_MEMBERS_CHUNK: Final = 400
# Table and column names are fixed here, never from input.
_MEMBERS_OF_PROFILE: Final = (
    f"SELECT {', '.join(_MEMBER_COLUMNS)} FROM trial_members "  # noqa: S608
    "WHERE profile_id = ? ORDER BY trial_key"
)


def _states_json(states: Mapping[str, MetricState]) -> dict[str, list[float]]:
    return {metric: list(state) for metric, state in states.items()}


def _member(row: Any) -> TrialMember:
    """A row read through SQLAlchemy (times and JSON already decoded)."""
    return _member_from(dict(row._mapping))


def _member_from_driver(row: tuple[Any, ...]) -> TrialMember:
    """A row read on the driver: SQLite hands over text for times and JSON."""
    data = dict(zip(_MEMBER_COLUMNS, row, strict=True))
    if isinstance(data["exposed_at"], str):
        data["exposed_at"] = datetime.fromisoformat(data["exposed_at"]).replace(tzinfo=UTC)
    if isinstance(data["states"], str | bytes):
        data["states"] = json_loads(data["states"])
    return _member_from(data)


def _member_from(data: dict[str, Any]) -> TrialMember:
    states = {
        str(metric): cast(MetricState, tuple(float(v) for v in values))
        for metric, values in (data["states"] or {}).items()
    }
    return TrialMember(**{**data, "kind": cast(TrialKind, data["kind"]), "states": states})


def _member_values(member: TrialMember) -> tuple[Any, ...]:
    """A member in ``_MEMBER_COLUMNS`` order, its states as JSON-ready lists."""
    return tuple(
        _states_json(member.states) if c == "states" else getattr(member, c)
        for c in _MEMBER_COLUMNS
    )


class TrialWrites:
    """Trial writes of one transaction; needs ``self._conn`` (the transaction's) and the
    transaction's bulk ``_insert`` (driver-level, with times and JSON converted)."""

    _conn: Connection

    def _insert(
        self,
        table: Table,
        columns: tuple[str, ...],
        rows: Iterable[Sequence[Any]],
        conflict: str = "",
    ) -> None:
        raise NotImplementedError  # provided by SqlWriteTransaction

    def trial_members_of(
        self, profile_ids: Iterable[str], trial_keys: Iterable[str] | None = None
    ) -> list[TrialMember]:
        t = s.trial_members
        ids = sorted(set(profile_ids))
        keys = None if trial_keys is None else sorted(set(trial_keys))
        found: list[TrialMember] = []
        for start in range(0, len(ids), _MEMBERS_CHUNK):
            query = select(*(t.c[c] for c in _MEMBER_COLUMNS)).where(
                t.c.profile_id.in_(ids[start : start + _MEMBERS_CHUNK])
            )
            if keys is not None:
                query = query.where(t.c.trial_key.in_(keys))
            found.extend(_member(row) for row in self._conn.execute(query))
        return sorted(found, key=lambda m: (m.profile_id, m.trial_key))

    def add_trial_members(self, members: Sequence[TrialMember]) -> None:
        # The first exposure of a (trial, profile) wins; later ones are left out.
        self._insert(
            s.trial_members,
            _MEMBER_COLUMNS,
            [_member_values(member) for member in members],
            "ON CONFLICT DO NOTHING",
        )

    def save_trial_states(
        self, states: Sequence[tuple[str, str, Mapping[str, MetricState]]]
    ) -> None:
        if not states:
            return
        t = s.trial_members
        update = (
            t.update()
            .where(t.c.trial_key == bindparam("b_trial"), t.c.profile_id == bindparam("b_profile"))
            .values(states=bindparam("b_states"))
        )
        self._conn.execute(
            update,
            [
                {"b_trial": trial, "b_profile": profile, "b_states": _states_json(values)}
                for trial, profile, values in states
            ],
        )

    def add_trial_stats(self, deltas: Mapping[StatsKey, StatsSums]) -> None:
        rows = [(*key, *sums) for key, sums in sorted(deltas.items())]
        self._insert(s.trial_stats, _STATS_COLUMNS, rows, _STATS_UPSERT)

    def events_since(self, profile_id: str, since: datetime) -> list[StoredEvent]:
        t = s.events
        query = (
            select(t)
            .where(t.c.profile_id == profile_id, t.c.timestamp >= since)
            .order_by(t.c.timestamp, t.c.id)
        )
        columns = StoredEvent.__dataclass_fields__
        return [
            StoredEvent(**{k: v for k, v in row._mapping.items() if k in columns})
            for row in self._conn.execute(query)
        ]

    def save_bandit_weights(self, weights: Sequence[BanditWeights]) -> None:
        rows = [
            (w.bandit_key, w.context, dict(w.weights), w.epoch, w.updated_at,
             w.config_version, dict(w.detail))
            for w in weights
        ]  # fmt: skip
        self._insert(s.bandit_weights, _WEIGHT_COLUMNS, rows, _WEIGHT_UPSERT)


class TrialReads:
    """Trial reads of a store; needs ``self._read(query)`` and ``self._driver_rows``."""

    def _read(self, query: Any) -> list[Any]:
        raise NotImplementedError  # provided by SqlStore

    def _driver_rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by SqlStore

    def trial_members(self, profile_id: str) -> list[TrialMember]:
        # On the decide path (once per decision while trials run): a driver-level read.
        rows = self._driver_rows(_MEMBERS_OF_PROFILE, (profile_id,))
        return [_member_from_driver(row) for row in rows]

    def trial_stats(self, trial_key: str) -> dict[StatsKey, StatsSums]:
        t = s.trial_stats
        query = select(*(t.c[c] for c in _STATS_COLUMNS)).where(t.c.trial_key == trial_key)
        out: dict[StatsKey, StatsSums] = {}
        for row in self._read(query):
            key, sums = tuple(row[:4]), row[4:]
            out[cast(StatsKey, key)] = (
                int(sums[0]),
                float(sums[1]),
                float(sums[2]),
                float(sums[3]),
                float(sums[4]),
                float(sums[5]),
            )
        return out

    def trial_logs(self, trial_key: str) -> Iterator[TrialMember]:
        t = s.trial_members
        query = (
            select(*(t.c[c] for c in _MEMBER_COLUMNS))
            .where(t.c.trial_key == trial_key)
            .order_by(t.c.profile_id)
        )
        return iter([_member(row) for row in self._read(query)])

    def bandit_weights(self, bandit_key: str | None = None) -> list[BanditWeights]:
        t = s.bandit_weights
        query = select(*(t.c[c] for c in _WEIGHT_COLUMNS)).order_by(t.c.bandit_key, t.c.context)
        if bandit_key is not None:
            query = query.where(t.c.bandit_key == bandit_key)
        return [
            BanditWeights(
                bandit_key=row.bandit_key,
                context=row.context,
                weights={str(k): float(v) for k, v in row.weights.items()},
                epoch=int(row.epoch),
                updated_at=row.updated_at,
                config_version=row.config_version,
                detail=dict(row.detail),
            )
            for row in self._read(query)
        ]
