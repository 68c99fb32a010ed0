"""The SQL side of the model registry, and the bulk event read that training needs.

Mixed into :class:`~firstmile.storage.sql.SqlWriteTransaction` (writes inside one
transaction) and :class:`~firstmile.storage.sql.SqlStore` (reads), like the trial tables.
Artifacts are stored in the database, so every stateless ``serve`` process on
PostgreSQL loads the same promoted model without a shared file system.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, func, select, text, update

from firstmile.storage import schema as s
from firstmile.storage.base import (
    ModelKind,
    ModelRecord,
    ModelStatus,
    Promotion,
    PromotionAction,
    StoredEvent,
)

_RECORD_COLUMNS: Final = (
    "name",
    "version",
    "kind",
    "status",
    "created_at",
    "promoted_at",
    "config_version",
    "schema_hash",
    "metrics",
    "meta",
    "sha256",
    "size",
)
_EVENT_FIELDS: Final = tuple(StoredEvent.__dataclass_fields__)
_PROFILES_PER_QUERY: Final = 500  # keeps the IN list under every backend's limits


def _record(row: Any) -> ModelRecord:
    data = dict(row._mapping)
    return ModelRecord(
        **{
            **data,
            "kind": cast(ModelKind, data["kind"]),
            "status": cast(ModelStatus, data["status"]),
            "metrics": dict(data["metrics"] or {}),
            "meta": dict(data["meta"] or {}),
        }
    )


class ModelWrites:
    """Registry writes of one transaction; needs ``self._conn`` (the transaction's)."""

    _conn: Connection

    def add_model(self, record: ModelRecord, artifact: bytes) -> None:
        values = {c: getattr(record, c) for c in _RECORD_COLUMNS}
        values["metrics"] = dict(record.metrics)
        values["meta"] = dict(record.meta)
        self._conn.execute(s.models.insert().values(**values, artifact=artifact))

    def _lock_model(self, name: str) -> None:
        """Serialize registry writes for one model name until the transaction ends.

        SQLite's write transactions already exclude each other; on PostgreSQL two
        ``train`` runs (or two promotions) could otherwise pick the same version number
        or leave two versions promoted.
        """
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name}
            )

    def next_model_version(self, name: str) -> int:
        self._lock_model(name)
        t = s.models
        highest = self._conn.execute(select(func.max(t.c.version)).where(t.c.name == name)).scalar()
        return 1 if highest is None else int(highest) + 1

    def promote_model(self, name: str, version: int, at: datetime, action: PromotionAction) -> None:
        self._lock_model(name)
        t = s.models
        self._conn.execute(
            update(t)
            .where(t.c.name == name, t.c.status == "promoted", t.c.version != version)
            .values(status="retired")
        )
        self._conn.execute(
            update(t)
            .where(t.c.name == name, t.c.version == version)
            .values(status="promoted", promoted_at=at)
        )
        self._conn.execute(
            s.model_promotions.insert().values(name=name, version=version, at=at, action=action)
        )


class ModelReads:
    """Registry reads of a store; needs ``self._read(query)``."""

    def _read(self, query: Any) -> list[Any]:
        raise NotImplementedError  # provided by SqlStore

    def models(self, name: str | None = None) -> list[ModelRecord]:
        t = s.models
        query = select(*(t.c[c] for c in _RECORD_COLUMNS)).order_by(
            t.c.created_at.desc(), t.c.name, t.c.version.desc()
        )
        if name is not None:
            query = query.where(t.c.name == name)
        return [_record(row) for row in self._read(query)]

    def model_record(self, name: str, version: int) -> ModelRecord | None:
        t = s.models
        query = select(*(t.c[c] for c in _RECORD_COLUMNS)).where(
            t.c.name == name, t.c.version == version
        )
        rows = self._read(query)
        return _record(rows[0]) if rows else None

    def model_artifact(self, name: str, version: int) -> bytes | None:
        t = s.models
        rows = self._read(select(t.c.artifact).where(t.c.name == name, t.c.version == version))
        return bytes(rows[0].artifact) if rows else None

    def promoted_models(self) -> list[ModelRecord]:
        t = s.models
        query = (
            select(*(t.c[c] for c in _RECORD_COLUMNS))
            .where(t.c.status == "promoted")
            .order_by(t.c.name, t.c.version.desc())
        )
        return [_record(row) for row in self._read(query)]

    def promotions(self, name: str) -> list[Promotion]:
        t = s.model_promotions
        query = (
            select(t.c.name, t.c.version, t.c.at, t.c.action)
            .where(t.c.name == name)
            .order_by(t.c.id)
        )
        return [
            Promotion(row.name, int(row.version), row.at, cast(PromotionAction, row.action))
            for row in self._read(query)
        ]

    def events_of_profiles(
        self, profile_ids: Sequence[str], *, exclude_source: str | None = None
    ) -> dict[str, list[StoredEvent]]:
        t = s.events
        out: dict[str, list[StoredEvent]] = {}
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), _PROFILES_PER_QUERY):
            query = (
                select(*(t.c[c] for c in _EVENT_FIELDS))
                .where(t.c.profile_id.in_(ids[start : start + _PROFILES_PER_QUERY]))
                .order_by(t.c.profile_id, t.c.timestamp, t.c.id)
            )
            if exclude_source is not None:
                query = query.where(t.c.source_id != exclude_source)
            for row in self._read(query):
                data = row._mapping
                event = StoredEvent(**{c: data[c] for c in _EVENT_FIELDS})
                out.setdefault(event.profile_id, []).append(event)
        return out

    def iter_events(
        self, *, names: Sequence[str] | None = None, batch_size: int = 2000
    ) -> Iterator[StoredEvent]:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
        t = s.events
        columns = [t.c.id, *(t.c[c] for c in _EVENT_FIELDS)]
        after = 0
        while True:
            query = select(*columns).where(t.c.id > after).order_by(t.c.id).limit(batch_size)
            if names is not None:
                query = query.where(t.c.type == "track", t.c.name.in_(list(names)))
            rows = self._read(query)
            for row in rows:
                data = row._mapping
                yield StoredEvent(**{c: data[c] for c in _EVENT_FIELDS})
            if len(rows) < batch_size:
                return
            after = int(rows[-1].id)
