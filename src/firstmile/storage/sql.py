"""The SQL store: one implementation of :class:`~firstmile.storage.base.Store` for SQLite
and PostgreSQL, on SQLAlchemy Core.

Open it with :func:`firstmile.storage.open_store`; nothing else imports this module.
Writes are batched (one ``executemany`` per call, ``IN`` lists chunked), because the
ingest pipeline calls them once per request with every message of a batch.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter
from types import TracebackType
from typing import Any, Final, TypeVar, cast

import orjson
from sqlalchemy import JSON, ColumnElement, Connection, Table, Text, any_, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from firstmile.clock import Clock, SystemClock
from firstmile.errors import ConflictError, NotFound, StorageUnavailable
from firstmile.profiles.model import (
    Profile,
    profile_document,
    profile_from_json,
    profile_to_json,
)
from firstmile.storage import schema as s
from firstmile.storage.base import (
    ApiKey,
    ConfigVersion,
    ConsentRecord,
    Exposure,
    Identity,
    IdentityKind,
    MergeRecord,
    QuarantineEntry,
    QuarantineRecord,
    QuarantineStatus,
    SegmentChange,
    StaticSegment,
    StoredEvent,
    TraitChange,
)
from firstmile.storage.cache import ProfileCache
from firstmile.storage.checkpoint import (
    WalCheckpointer,
)
from firstmile.storage.engine import (
    BEGIN_MODE,
    create_sql_engine,
    json_dumps,
    json_loads,
    sqlite_write_lock,
)
from firstmile.storage.migrate import upgrade_to_head
from firstmile.storage.models_sql import ModelReads, ModelWrites
from firstmile.storage.trials_sql import TrialReads, TrialWrites

T = TypeVar("T")

# Bound parameters per SQLite statement: well under its limit (32766), and few enough
# that one IN list is one query for a typical ingest batch.
MAX_PARAMS: Final = 500

# Advisory lock key serializing write transactions on PostgreSQL ("fmwrite" in ASCII).
_PG_WRITE_LOCK: Final = 0x666D7772697465


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _columns(record_type: type[Any]) -> tuple[str, ...]:
    # The tables name their columns after the dataclass fields, so rows map 1:1.
    return tuple(f.name for f in fields(record_type))


_EVENT_COLUMNS: Final = _columns(StoredEvent)
_TRAIT_COLUMNS: Final = _columns(TraitChange)
_CONSENT_COLUMNS: Final = _columns(ConsentRecord)
_MERGE_COLUMNS: Final = _columns(MergeRecord)
_IDENTITY_COLUMNS: Final = _columns(Identity)
_KEY_COLUMNS: Final = _columns(ApiKey)
_QUARANTINE_COLUMNS: Final = _columns(QuarantineEntry)
_SEGMENT_CHANGE_COLUMNS: Final = _columns(SegmentChange)
_STATIC_COLUMNS: Final = _columns(StaticSegment)
_EXPOSURE_COLUMNS: Final = _columns(Exposure)
_CONFIG_VERSION_COLUMNS: Final = _columns(ConfigVersion)
_MEMBERSHIP_COLUMNS: Final = ("profile_id", "segment_key", "entered_at")
_MEMBERSHIP_KEY: Final = ("profile_id", "segment_key")
# The tables whose rows follow a profile merged into another.
_REASSIGNED_TABLES: Final = tuple(
    t.name for t in (s.identities, s.events, s.trait_history, s.consent_ledger, s.segment_history)
)


# JSON columns whose values the caller hands over already encoded (see _profile_data).
_ENCODED_COLUMNS: Final = frozenset({(s.profiles.name, "data")})


def _rows(records: Sequence[Any], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    # Shallow on purpose: dataclasses.asdict would deep-copy every payload.
    return [{c: getattr(r, c) for c in columns} for r in records]


@functools.cache
def _getter(columns: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    # One attrgetter reads every column of a record in C (columns are never a single name).
    return attrgetter(*columns)


def _tuples(records: Sequence[Any], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return list(map(_getter(columns), records))


_PROFILE_COLUMNS: Final = ("profile_id", "user_id", "version", "created_at", "updated_at", "data")
_PROFILE_UPSERT: Final = (
    "ON CONFLICT (profile_id) DO UPDATE SET user_id = excluded.user_id, "
    "version = excluded.version, updated_at = excluded.updated_at, data = excluded.data"
)
# For a row whose user_id is unchanged: SQLite rewrites an index entry for every column
# in the SET list, even one set to its old value, which dirtied most pages of the
# user_id index on every request.
_PROFILE_UPSERT_SAME_USER: Final = (
    "ON CONFLICT (profile_id) DO UPDATE SET "
    "version = excluded.version, updated_at = excluded.updated_at, data = excluded.data"
)


def _profile_data(profile: Profile) -> str:
    """The ``data`` column of a profile: the text ``json_dumps(profile_to_json(profile))`` gives.

    Every request rewrites the profiles it touched; :func:`profile_document` lets
    orjson write their datetimes in C.
    """
    try:
        return orjson.dumps(profile_document(profile)).decode()
    except orjson.JSONEncodeError:
        return json_dumps(profile_to_json(profile))  # e.g. a trait beyond 64 bits


def _profile_row(profile: Profile) -> tuple[Any, ...]:
    return (
        profile.profile_id,
        profile.user_id,
        profile.version,
        profile.created_at,
        profile.updated_at,
        _profile_data(profile),
    )


def _decoded(data: Any) -> Any:
    # SQLite hands over the JSON text; psycopg decodes JSON columns itself.
    return json_loads(data) if isinstance(data, str | bytes) else data


def _quarantine_record(row: Mapping[str, Any]) -> QuarantineRecord:
    return QuarantineRecord(
        id=int(row["id"]),
        entry=QuarantineEntry(**{c: row[c] for c in _QUARANTINE_COLUMNS}),
        status=row["status"],
        resolved_at=row["resolved_at"],
        note=row["note"],
    )


Converter = Callable[[Any], Any]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"Naive datetime {value.isoformat()} cannot be stored: "
            "firstmile keeps every time as a timezone-aware UTC datetime."
        )
    return value


# A request's events share received_at and many share their profile's times: memoize.
@functools.lru_cache(maxsize=4096)
def _sqlite_time(value: datetime | None) -> str | None:
    # The exact text SQLAlchemy's SQLite DATETIME writes (and parses back).
    if value is None:
        return None
    if value.tzinfo is UTC:
        # The common case, and the same text without two intermediate datetimes.
        return value.isoformat(" ", "microseconds")[:-6]  # drops "+00:00"
    return _aware(value).astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _postgres_time(value: datetime | None) -> datetime | None:
    return None if value is None else _aware(value)


class _Dialect:
    """The few statements whose SQL differs between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.name = name
        # How many values one membership test takes: SQLite binds each value, while
        # PostgreSQL binds one array (bounded only to keep a statement's memory small).
        self.chunk = MAX_PARAMS - 2 if name == "sqlite" else 10_000
        self._placeholder = "?" if name == "sqlite" else "%s"
        self.placeholder = self._placeholder
        self._time = _sqlite_time if name == "sqlite" else _postgres_time
        self._inserts: dict[
            tuple[str, tuple[str, ...], str], tuple[str, tuple[tuple[int, Converter], ...]]
        ] = {}
        self._deletes: dict[tuple[str, tuple[str, ...]], str] = {}
        self._selects: dict[tuple[str, tuple[int, ...]], str] = {}

    def driver_sql(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in the driver's own paramstyle."""
        return sql.replace("?", self._placeholder)

    def in_query(
        self, template: str, fixed: tuple[Any, ...], *lists: Sequence[str]
    ) -> tuple[str, tuple[Any, ...]]:
        """A statement for the driver whose ``{}`` slots test membership in ``lists``.

        The ingest pipeline runs a few such SELECTs in every write transaction, and
        SQLAlchemy's compile and cache-key work for them cost more than the queries
        themselves. ``template`` takes ``?`` placeholders for the ``fixed`` parameters,
        which come before the slots. A slot is ``IN (?, ..., ?)`` on SQLite and one array
        parameter on PostgreSQL (see :meth:`is_in` for why); the text is cached per shape.
        """
        if self.name == "sqlite":
            shape = tuple(len(values) for values in lists)
            params: tuple[Any, ...] = (*fixed, *(v for values in lists for v in values))
        else:
            shape = ()
            params = (*fixed, *(list(values) for values in lists))
        sql = self._selects.get((template, shape))
        if sql is None:
            if self.name == "sqlite":
                slots = [f"IN ({', '.join('?' * n)})" for n in shape]
            else:
                slots = ["= ANY(?::text[])"] * len(lists)
            sql = self._selects[(template, shape)] = self.driver_sql(template.format(*slots))
        return sql, params

    def bulk_insert(
        self, table: Table, columns: tuple[str, ...], conflict: str = ""
    ) -> tuple[str, tuple[tuple[int, Converter], ...]]:
        """An INSERT for the driver's ``executemany``, and the columns that need converting.

        The ingest hot path skips SQLAlchemy's per-value bind processing (a few
        microseconds per value, several values per event); values are converted here
        with the same rules as :class:`~firstmile.storage.schema.UTCDateTime` and the
        engine's JSON codec. ``ON CONFLICT`` reads the same on SQLite and PostgreSQL.
        """
        key = (table.name, columns, conflict)
        cached = self._inserts.get(key)
        if cached is None:
            placeholders = ", ".join([self._placeholder] * len(columns))
            # Table and column names come from schema.py, never from input.
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
            converters: list[tuple[int, Converter]] = []
            for index, name in enumerate(columns):
                column_type = table.c[name].type
                if isinstance(column_type, s.UTCDateTime):
                    converters.append((index, self._time))
                elif isinstance(column_type, JSON) and (table.name, name) not in _ENCODED_COLUMNS:
                    converters.append((index, json_dumps))
            cached = self._inserts[key] = (f"{sql} {conflict}".rstrip(), tuple(converters))
        return cached

    def bulk_delete(self, table: Table, key: tuple[str, ...]) -> str:
        """A DELETE by ``key`` for the driver's ``executemany`` (key columns are text)."""
        cache_key = (table.name, key)
        sql = self._deletes.get(cache_key)
        if sql is None:
            for name in key:
                if not isinstance(table.c[name].type, Text):
                    raise TypeError(f"{table.name}.{name} needs converting; delete through Core.")
            where = " AND ".join(f"{name} = {self._placeholder}" for name in key)
            # Table and column names come from schema.py, never from input.
            sql = self._deletes[cache_key] = f"DELETE FROM {table.name} WHERE {where}"  # noqa: S608
        return sql

    def is_in(self, column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
        """``column IN values``, written so the backend uses the index at any table size."""
        if self.name == "postgresql":
            # Not IN ($1, ..., $n): once psycopg prepares the statement, PostgreSQL's generic
            # plan can filter on that list, rebuilding the array for every row it scans
            # (hundreds of ms on a large dedupe ledger). A single array parameter is always
            # an index condition.
            return column == any_(literal(list(values), postgresql.ARRAY(Text)))
        return column.in_(values)


class SqlWriteTransaction(TrialWrites, ModelWrites):
    """The writes of one transaction, on one connection (see ``SqlStore.write``)."""

    def __init__(
        self, conn: Connection, dialect: _Dialect, clock: Clock, cache: ProfileCache | None = None
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._clock = clock
        self._cache = cache or ProfileCache(0)
        # Profiles this transaction wrote: cached once it commits (a rolled-back version
        # number may be written again later with other content).
        self.saved: dict[str, Profile] = {}
        # The user_id of every profile row this transaction read or wrote, as stored now.
        self._stored_users: dict[str, str | None] = {}

    def _select_in(self, template: str, fixed: tuple[Any, ...], *lists: Sequence[str]) -> list[Any]:
        """Rows of a membership query run on the driver (see ``_Dialect.in_query``)."""
        sql, params = self._dialect.in_query(template, fixed, *lists)
        return list(self._conn.exec_driver_sql(sql, params).fetchall())

    def seen_message_ids(self, source_id: str, message_ids: Sequence[str]) -> set[str]:
        seen: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(message_ids)), self._dialect.chunk):
            rows = self._select_in(
                "SELECT message_id FROM seen_messages WHERE source_id = ? AND message_id {}",
                (source_id,),
                chunk,
            )
            seen.update(message_id for (message_id,) in rows)
        return seen

    def _insert(
        self,
        table: Table,
        columns: tuple[str, ...],
        rows: Iterable[Sequence[Any]],
        conflict: str = "",
    ) -> None:
        sql, converters = self._dialect.bulk_insert(table, columns, conflict)
        values: list[tuple[Any, ...]]
        if converters:
            values = []
            for row in rows:
                value = list(row)
                for index, convert in converters:
                    value[index] = convert(value[index])
                values.append(tuple(value))  # executemany through SQLAlchemy takes tuples
        else:
            values = [tuple(row) for row in rows]
        if values:
            self._conn.exec_driver_sql(sql, values)

    def mark_seen(self, source_id: str, message_ids: Sequence[str], at: datetime) -> None:
        self._insert(
            s.seen_messages,
            ("source_id", "message_id", "seen_at"),
            [(source_id, m, at) for m in dict.fromkeys(message_ids)],
            "ON CONFLICT DO NOTHING",
        )

    def lookup_identities(
        self, keys: Iterable[tuple[IdentityKind, str]]
    ) -> dict[tuple[IdentityKind, str], str]:
        wanted = set(keys)
        kinds = sorted({kind for kind, _ in wanted})
        found: dict[tuple[IdentityKind, str], str] = {}
        # kind IN (..) AND value IN (..) walks the (kind, value) key on both backends; it
        # may also match a value under the other kind, which the check below drops.
        for chunk in _chunks(sorted({value for _, value in wanted}), self._dialect.chunk):
            rows = self._select_in(
                "SELECT kind, value, profile_id FROM identities WHERE kind {} AND value {}",
                (),
                kinds,
                chunk,
            )
            for kind, value, profile_id in rows:
                key = (cast(IdentityKind, kind), cast(str, value))
                if key in wanted:
                    found[key] = profile_id
        return found

    def load_profiles(self, profile_ids: Iterable[str]) -> dict[str, Profile]:
        # Versions first: a profile cached at the stored version needs no JSON decoding,
        # which is most of the cost of reading a profile. The stored user_id comes along
        # for save_profiles.
        found: dict[str, Profile] = {}
        stale: list[str] = []
        for chunk in _chunks(list(dict.fromkeys(profile_ids)), self._dialect.chunk):
            rows = self._select_in(
                "SELECT profile_id, version, user_id FROM profiles WHERE profile_id {}", (), chunk
            )
            for profile_id, version, user_id in rows:
                self._stored_users[profile_id] = user_id
                cached = self._cache.get(profile_id, version)
                if cached is None:
                    stale.append(profile_id)
                else:
                    found[profile_id] = cached
        for chunk in _chunks(stale, self._dialect.chunk):
            rows = self._select_in("SELECT data FROM profiles WHERE profile_id {}", (), chunk)
            for (data,) in rows:
                profile = profile_from_json(_decoded(data))
                found[profile.profile_id] = profile
        return found

    def save_profiles(self, profiles: Sequence[Profile]) -> None:
        if not profiles:
            return
        # The last version of a profile wins; one statement may not update a row twice.
        latest = {p.profile_id: p for p in profiles}
        self.saved.update(latest)
        # An upsert, not a REPLACE: a row keeps its place in the primary key. A row read
        # in this transaction whose user_id stays the same leaves user_id out of the SET.
        same_user: list[tuple[Any, ...]] = []
        other: list[tuple[Any, ...]] = []
        stored = self._stored_users
        for profile in latest.values():
            pid, user_id = profile.profile_id, profile.user_id
            same = pid in stored and stored[pid] == user_id
            (same_user if same else other).append(_profile_row(profile))
            stored[pid] = user_id
        self._insert(s.profiles, _PROFILE_COLUMNS, same_user, _PROFILE_UPSERT_SAME_USER)
        self._insert(s.profiles, _PROFILE_COLUMNS, other, _PROFILE_UPSERT)

    def _run(self, sql: str, *params: Any) -> int:
        """Run one statement on the driver; returns the rows it changed."""
        return int(self._conn.exec_driver_sql(self._dialect.driver_sql(sql), params).rowcount)

    def delete_profile(self, profile_id: str) -> None:
        self.saved.pop(profile_id, None)
        self._stored_users.pop(profile_id, None)
        self._run("DELETE FROM profiles WHERE profile_id = ?", profile_id)
        self._run("DELETE FROM segment_memberships WHERE profile_id = ?", profile_id)

    def add_identities(self, identities: Sequence[Identity]) -> None:
        if not identities:
            return
        # First writer wins: an id never silently moves to another profile (merges do
        # that explicitly through reassign).
        self._insert(
            s.identities,
            _IDENTITY_COLUMNS,
            _tuples(identities, _IDENTITY_COLUMNS),
            "ON CONFLICT DO NOTHING",
        )

    def reassign(self, from_profile_id: str, to_profile_id: str) -> None:
        if from_profile_id == to_profile_id:
            return
        # Plain SQL on the driver: merges happen inside ingest requests, and these eight
        # statements cost several times more through SQLAlchemy Core.
        for table in _REASSIGNED_TABLES:
            # Table names come from schema.py, never from input.
            sql = f"UPDATE {table} SET profile_id = ? WHERE profile_id = ?"  # noqa: S608
            self._run(sql, to_profile_id, from_profile_id)
        # Not moved: the caller re-evaluates the merged profile and records what changed.
        self._run("DELETE FROM segment_memberships WHERE profile_id = ?", from_profile_id)
        # Static memberships are moved; where both profiles are members, one row stays.
        self._run(
            "DELETE FROM static_segment_members WHERE profile_id = ? AND key IN "
            "(SELECT b.key FROM static_segment_members AS b WHERE b.profile_id = ?)",
            from_profile_id,
            to_profile_id,
        )
        self._run(
            "UPDATE static_segment_members SET profile_id = ? WHERE profile_id = ?",
            to_profile_id,
            from_profile_id,
        )
        # Trial memberships move too; where both profiles were exposed to the same trial,
        # the known profile's membership (the one that survives) stays.
        self._run(
            "DELETE FROM trial_members WHERE profile_id = ? AND trial_key IN "
            "(SELECT b.trial_key FROM trial_members AS b WHERE b.profile_id = ?)",
            from_profile_id,
            to_profile_id,
        )
        self._run(
            "UPDATE trial_members SET profile_id = ? WHERE profile_id = ?",
            to_profile_id,
            from_profile_id,
        )

    def append_events(self, events: Sequence[StoredEvent]) -> None:
        self._append(s.events, events, _EVENT_COLUMNS)

    def append_trait_changes(self, changes: Sequence[TraitChange]) -> None:
        self._append(s.trait_history, changes, _TRAIT_COLUMNS)

    def append_consent(self, records: Sequence[ConsentRecord]) -> None:
        self._append(s.consent_ledger, records, _CONSENT_COLUMNS)

    def append_merges(self, merges: Sequence[MergeRecord]) -> None:
        self._append(s.merges, merges, _MERGE_COLUMNS)

    def _append(self, table: Table, records: Sequence[Any], columns: tuple[str, ...]) -> None:
        self._insert(table, columns, _tuples(records, columns))

    def add_quarantine(self, entries: Sequence[QuarantineEntry]) -> list[int]:
        if not entries:
            return []
        rows = _rows(entries, _QUARANTINE_COLUMNS)
        for row in rows:
            row["status"] = "pending"
        t = s.quarantine
        stmt = t.insert().returning(t.c.id, sort_by_parameter_order=True)
        return [int(i) for i in self._conn.scalars(stmt, rows)]

    def resolve_quarantine(self, entry_id: int, status: QuarantineStatus, note: str) -> None:
        t = s.quarantine
        resolved_at = None if status == "pending" else self._clock.now()
        result = self._conn.execute(
            t.update()
            .where(t.c.id == entry_id)
            .values(status=status, note=note, resolved_at=resolved_at)
        )
        if result.rowcount == 0:
            raise NotFound(f"There is no quarantine entry {entry_id}; list them to find its id.")

    def bump_counters(self, day: str, source_id: str, counts: Mapping[str, int]) -> None:
        # Through the driver like the other ingest writes (a Core upsert is compiled anew
        # on every request); "ON CONFLICT .. DO UPDATE" reads the same on both backends.
        self._insert(
            s.ingest_counters,
            ("day", "source_id", "metric", "count"),
            [(day, source_id, metric, n) for metric, n in counts.items()],
            "ON CONFLICT (day, source_id, metric) DO UPDATE "
            "SET count = ingest_counters.count + excluded.count",
        )

    def add_key(self, key: ApiKey) -> None:
        self._conn.execute(s.api_keys.insert(), _rows([key], _KEY_COLUMNS))

    def load_memberships(self, profile_ids: Iterable[str]) -> dict[str, dict[str, datetime]]:
        found: dict[str, dict[str, datetime]] = {}
        t = s.segment_memberships
        for chunk in _chunks(list(dict.fromkeys(profile_ids)), self._dialect.chunk):
            query = (
                select(t.c.profile_id, t.c.segment_key, t.c.entered_at)
                .where(self._dialect.is_in(t.c.profile_id, chunk))
                .order_by(t.c.profile_id, t.c.segment_key)
            )
            for profile_id, segment_key, entered_at in self._conn.execute(query):
                found.setdefault(profile_id, {})[segment_key] = entered_at
        return found

    def apply_segment_changes(self, changes: Sequence[SegmentChange]) -> None:
        if not changes:
            return
        # The net effect on each membership, so that one batched DELETE followed by one
        # batched INSERT .. DO NOTHING ends where applying the changes one by one would:
        # an exit (even one later undone) deletes the row; the first entry after the last
        # exit (or ever) inserts it, and an existing row keeps its earlier entered_at.
        removed: set[tuple[str, str]] = set()
        added: dict[tuple[str, str], datetime] = {}
        for change in changes:
            key = (change.profile_id, change.segment_key)
            if change.change == "entered":
                added.setdefault(key, change.at)
            elif change.change == "exited":
                added.pop(key, None)
                removed.add(key)
            else:
                raise ValueError(
                    f"Unknown segment change {change.change!r} for profile "
                    f"{change.profile_id!r}; use 'entered' or 'exited'."
                )
        t = s.segment_memberships
        if removed:
            self._conn.exec_driver_sql(
                self._dialect.bulk_delete(t, _MEMBERSHIP_KEY), sorted(removed)
            )
        self._insert(
            t,
            _MEMBERSHIP_COLUMNS,
            [(profile_id, key, at) for (profile_id, key), at in added.items()],
            "ON CONFLICT DO NOTHING",
        )
        self._append(s.segment_history, changes, _SEGMENT_CHANGE_COLUMNS)

    def record_exposures(self, exposures: Sequence[Exposure]) -> None:
        self._insert(
            s.exposures,
            _EXPOSURE_COLUMNS,
            _tuples(exposures, _EXPOSURE_COLUMNS),
            "ON CONFLICT DO NOTHING",
        )

    def record_config_version(self, version: ConfigVersion) -> bool:
        t = s.config_versions
        if self._conn.scalar(select(t.c.version_id).where(t.c.version_id == version.version_id)):
            return False
        self._conn.execute(t.insert(), _rows([version], _CONFIG_VERSION_COLUMNS))
        return True

    def create_static_segment(self, segment: StaticSegment, profile_ids: Iterable[str]) -> None:
        t = s.static_segments
        if self._conn.scalar(select(t.c.key).where(t.c.key == segment.key)) is not None:
            raise ConflictError(
                f"A static segment {segment.key!r} exists already; choose another key "
                "or delete it first.",
                field="key",
            )
        self._conn.execute(t.insert(), [_rows([segment], _STATIC_COLUMNS)[0]])
        self._insert(
            s.static_segment_members,
            ("key", "profile_id"),
            [(segment.key, pid) for pid in dict.fromkeys(profile_ids)],
        )

    def delete_static_segment(self, key: str) -> bool:
        m = s.static_segment_members
        self._conn.execute(m.delete().where(m.c.key == key))
        t = s.static_segments
        return self._conn.execute(t.delete().where(t.c.key == key)).rowcount > 0


class SqlStore(TrialReads, ModelReads):
    """A :class:`~firstmile.storage.base.Store` on SQLite or PostgreSQL.

    Parameters
    ----------
    url
        The URL as the user gave it (kept as :attr:`url`).
    sa_url
        The SQLAlchemy URL to connect to (``sqlite`` or ``postgresql+psycopg``).
    clock
        Tells the time of store-made timestamps (a quarantine entry's ``resolved_at``).
    """

    def __init__(self, url: str, sa_url: URL, *, clock: Clock | None = None) -> None:
        self.url = url
        self._display_url = sa_url.render_as_string(hide_password=True)
        self._engine = create_sql_engine(sa_url)
        self._dialect = _Dialect(self._engine.dialect.name)
        self._clock: Clock = clock or SystemClock()
        self._writing = threading.local()
        self._closed = False
        self._profile_cache = ProfileCache()
        self._reads = threading.local()  # per-thread connection for driver reads (SQLite)
        self._held: list[Any] = []
        self._held_lock = threading.Lock()
        self._write_lock: AbstractContextManager[Any]
        self._checkpointer: WalCheckpointer | None = None
        if self._dialect.name == "sqlite":
            # SQLite has one writer at a time. The ingest thread pool queues here, in
            # Python, rather than in SQLite's busy handler.
            lock = sqlite_write_lock(sa_url.database or "")
            self._write_lock = lock
            self._write_options: dict[str, Any] = {BEGIN_MODE: "IMMEDIATE"}
            database = sa_url.database or ""
            if database and database != ":memory:":
                self._checkpointer = WalCheckpointer(database, lock)
        else:
            self._write_lock = nullcontext()
            self._write_options = {}

    def __repr__(self) -> str:
        return f"SqlStore({self._display_url!r})"

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; later calls raise ``StorageUnavailable``.

        Closing twice is harmless.
        """
        self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.close()
        with self._held_lock:
            held, self._held = self._held, []
        for raw in held:
            raw.close()
        self._engine.dispose()

    def _connect(self) -> Connection:
        if self._closed:
            raise StorageUnavailable(
                f"The store at {self._display_url} is closed; open it again with open_store()."
            )
        try:
            return self._engine.connect()
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StorageUnavailable(
                f"Cannot reach the database at {self._display_url} ({reason}). Check that "
                "it is running and that FIRSTMILE_DATABASE_URL points at it."
            ) from exc

    def ping(self) -> None:
        """Raise :class:`~firstmile.errors.StorageUnavailable` if the database is unreachable."""
        with self._connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def migrate(self) -> None:
        """Apply pending migrations in one transaction; each step is recorded with its time.

        Safe to call on every start: an up-to-date database is left as it is.
        """
        with self._write_lock, self._connect() as conn:
            conn.execution_options(**self._write_options)
            with conn.begin():
                upgrade_to_head(conn)

    @contextmanager
    def write(self) -> Iterator[SqlWriteTransaction]:
        """One transaction: commits when the block ends, rolls back if it raises.

        Examples
        --------
        >>> import tempfile
        >>> from firstmile.storage import open_store
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     with open_store(f"sqlite:///{folder}/firstmile.db") as store:
        ...         store.migrate()
        ...         with store.write() as tx:
        ...             tx.bump_counters("2026-01-01", "web", {"accepted": 2, "duplicate": 1})
        ...         store.counters()
        {'accepted': 2, 'duplicate': 1}
        """
        if getattr(self._writing, "active", False):
            # The inner block would commit on its own, and on SQLite it would deadlock.
            raise RuntimeError("store.write() blocks cannot be nested; reuse the open one.")
        self._writing.active = True
        try:
            with self._write_lock, self._connect() as conn:
                conn.execution_options(**self._write_options)
                with conn.begin():
                    if self._dialect.name == "postgresql":
                        # Writers read identities and dedupe ids, then write: two processes
                        # ingesting the same new id at once would both miss it and one
                        # insert would be dropped. Serialize writers, as SQLite does; the
                        # lock ends with the transaction.
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")
                    tx = SqlWriteTransaction(conn, self._dialect, self._clock, self._profile_cache)
                    yield tx
            for profile in tx.saved.values():  # committed: now they are the stored versions
                self._profile_cache.put(profile)
            if self._checkpointer is not None:
                self._checkpointer.committed()
        finally:
            self._writing.active = False

    def _read(self, query: Any) -> list[Any]:
        with self._connect() as conn:
            return list(conn.execute(query))

    def get_profile(self, profile_id: str) -> Profile | None:
        """The profile with this id, or ``None``."""
        t = s.profiles
        rows = self._read(select(t.c.data).where(t.c.profile_id == profile_id))
        return profile_from_json(rows[0].data) if rows else None

    def _driver_rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of one statement on a pooled driver connection, without SQLAlchemy's
        per-call work (the decide hot path: a few point reads per decision)."""
        if self._closed:
            self._connect()  # raises StorageUnavailable with the message
        sql = sql.replace("?", self._dialect.placeholder)
        if self._dialect.name == "sqlite":
            # Each thread keeps one connection for these reads: checking one out of the
            # pool and back costs more than the read. In autocommit mode, a SELECT read to
            # the end holds no transaction, so a held connection pins no WAL snapshot.
            raw = getattr(self._reads, "connection", None)
            if raw is None:
                raw = self._reads.connection = self._engine.raw_connection()
                with self._held_lock:
                    self._held.append(raw)
            return _fetch(raw, sql, params)
        try:
            raw = self._engine.raw_connection()
        except DBAPIError as exc:
            raise StorageUnavailable(f"Cannot reach the database at {self._display_url}.") from exc
        try:
            return _fetch(raw, sql, params)
        finally:
            raw.close()  # back to the pool

    def profile_for(self, kind: IdentityKind, value: str) -> Profile | None:
        """The profile that owns ``(kind, value)``, or ``None``: the decide hot path.

        Decoded profiles are kept in a bounded cache keyed by id and checked against the
        stored ``version`` on every call, so a profile changed by any process is read
        again, and an unchanged one costs one indexed read and no JSON decoding.
        """
        rows = self._driver_rows(
            "SELECT p.profile_id, p.version FROM identities i "
            "JOIN profiles p ON p.profile_id = i.profile_id WHERE i.kind = ? AND i.value = ?",
            (kind, value),
        )
        if not rows:
            return None
        profile_id, version = rows[0]
        cached = self._profile_cache.get(profile_id, version)
        if cached is not None:
            return cached
        data = self._driver_rows("SELECT data FROM profiles WHERE profile_id = ?", (profile_id,))
        if not data:
            return None  # merged away between the two reads
        raw = data[0][0]
        # SQLite hands over the JSON text; psycopg may decode JSON columns itself.
        profile = profile_from_json(json_loads(raw) if isinstance(raw, str | bytes) else raw)
        self._profile_cache.put(profile)
        return profile

    def find_profile_id(self, kind: IdentityKind, value: str) -> str | None:
        """The id of the profile that owns ``(kind, value)``, or ``None``."""
        t = s.identities
        rows = self._read(select(t.c.profile_id).where(t.c.kind == kind, t.c.value == value))
        return str(rows[0].profile_id) if rows else None

    def identities(self, profile_id: str) -> list[Identity]:
        """The ids of a profile, first seen first."""
        t = s.identities
        query = (
            select(*(t.c[c] for c in _IDENTITY_COLUMNS))
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.first_seen, t.c.kind, t.c.value)
        )
        return [Identity(**row._mapping) for row in self._read(query)]

    def events(self, profile_id: str, *, limit: int = 50) -> list[StoredEvent]:
        """The profile's events, most recent first (by ``timestamp``)."""
        t = s.events
        query = (
            select(*(t.c[c] for c in _EVENT_COLUMNS))
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.timestamp.desc(), t.c.id.desc())
            .limit(limit)
        )
        return [StoredEvent(**row._mapping) for row in self._read(query)]

    def trait_history(self, profile_id: str, *, limit: int = 100) -> list[TraitChange]:
        """The profile's trait changes, most recent first."""
        t = s.trait_history
        query = (
            select(*(t.c[c] for c in _TRAIT_COLUMNS))
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.changed_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        return [TraitChange(**row._mapping) for row in self._read(query)]

    def consent_history(self, profile_id: str) -> list[ConsentRecord]:
        """The profile's consent ledger, oldest first."""
        t = s.consent_ledger
        query = (
            select(*(t.c[c] for c in _CONSENT_COLUMNS))
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.recorded_at, t.c.id)
        )
        return [ConsentRecord(**row._mapping) for row in self._read(query)]

    def merges(self, profile_id: str) -> list[MergeRecord]:
        """Merges into or out of the profile, oldest first."""
        t = s.merges
        query = (
            select(*(t.c[c] for c in _MERGE_COLUMNS))
            .where((t.c.from_profile_id == profile_id) | (t.c.into_profile_id == profile_id))
            .order_by(t.c.merged_at, t.c.id)
        )
        return [MergeRecord(**row._mapping) for row in self._read(query)]

    def quarantine(
        self,
        *,
        status: QuarantineStatus | None = None,
        reason: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[QuarantineRecord]:
        """Quarantined messages, newest first, optionally filtered by status and reason."""
        t = s.quarantine
        query = select(t).order_by(t.c.id.desc()).limit(limit).offset(offset)
        if status is not None:
            query = query.where(t.c.status == status)
        if reason is not None:
            query = query.where(t.c.reason == reason)
        return [_quarantine_record(row._mapping) for row in self._read(query)]

    def quarantine_entry(self, entry_id: int) -> QuarantineRecord | None:
        """One quarantined message by id, or ``None``."""
        t = s.quarantine
        rows = self._read(select(t).where(t.c.id == entry_id))
        return _quarantine_record(rows[0]._mapping) if rows else None

    def quarantine_reasons(self) -> dict[str, int]:
        """Pending entries counted by reason."""
        t = s.quarantine
        query = (
            select(t.c.reason, func.count())
            .where(t.c.status == "pending")
            .group_by(t.c.reason)
            .order_by(t.c.reason)
        )
        return {reason: int(n) for reason, n in self._read(query)}

    def counters(self, *, source_id: str | None = None) -> dict[str, int]:
        """Ingest counters by metric, summed over all days (and sources unless given)."""
        t = s.ingest_counters
        query = select(t.c.metric, func.sum(t.c.count)).group_by(t.c.metric)
        if source_id is not None:
            query = query.where(t.c.source_id == source_id)
        # int(): PostgreSQL sums bigints as numeric, which arrives as a Decimal.
        return {metric: int(n) for metric, n in self._read(query.order_by(t.c.metric))}

    def profile_stats(self) -> dict[str, int]:
        """``profiles``, ``identified`` (with a user id), ``anonymous`` and ``events``."""
        p = s.profiles
        query = select(
            select(func.count()).select_from(p).scalar_subquery(),
            select(func.count(p.c.user_id)).scalar_subquery(),
            select(func.count()).select_from(s.events).scalar_subquery(),
        )
        profiles, identified, events = self._read(query)[0]
        return {
            "profiles": int(profiles),
            "identified": int(identified),
            "anonymous": int(profiles) - int(identified),
            "events": int(events),
        }

    def iter_profiles(self, *, batch_size: int = 500) -> Iterator[Profile]:
        """Every profile, by id, read ``batch_size`` at a time.

        Each batch is its own short read, so a slow consumer holds no transaction open;
        profiles written meanwhile may or may not be included.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
        t = s.profiles
        after: str | None = None
        while True:
            query = select(t.c.profile_id, t.c.data).order_by(t.c.profile_id).limit(batch_size)
            if after is not None:
                query = query.where(t.c.profile_id > after)
            rows = self._read(query)
            for row in rows:
                profile = profile_from_json(row.data)
                # Scans (the popularity count at start, sweeps) decode every profile
                # anyway: they warm the decide cache while it has room.
                self._profile_cache.offer(profile)
                yield profile
            if len(rows) < batch_size:
                return
            after = rows[-1].profile_id

    def warm_cache(self, limit: int | None = None) -> int:
        """Read recently updated profiles into the decide cache (see the protocol)."""
        wanted = self._profile_cache.size if limit is None else limit
        if wanted < 1:
            return 0
        t = s.profiles
        query = select(t.c.data).order_by(t.c.updated_at.desc()).limit(wanted)
        rows = self._read(query)
        # Most recent first: each offer goes to the cache's eviction end, in front of the
        # ones before it, so the least recently updated is the first evicted.
        for row in rows:
            self._profile_cache.offer(profile_from_json(row.data))
        return len(rows)

    def find_key(self, key_hash: str) -> ApiKey | None:
        """The API key with this SHA-256 hash, or ``None``."""
        t = s.api_keys
        query = select(*(t.c[c] for c in _KEY_COLUMNS)).where(t.c.key_hash == key_hash)
        rows = self._read(query)
        return ApiKey(**rows[0]._mapping) if rows else None

    def memberships(self, profile_id: str) -> dict[str, datetime]:
        """The profile's current segments, ``{segment_key: entered_at}``, earliest first."""
        t = s.segment_memberships
        query = (
            select(t.c.segment_key, t.c.entered_at)
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.entered_at, t.c.segment_key)
        )
        return {row.segment_key: row.entered_at for row in self._read(query)}

    def memberships_of(self, profile_ids: Iterable[str]) -> dict[str, dict[str, datetime]]:
        """Current memberships of many profiles, one query per chunk of ids."""
        t = s.segment_memberships
        found: dict[str, dict[str, datetime]] = {}
        with self._connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(profile_ids)), self._dialect.chunk):
                query = (
                    select(t.c.profile_id, t.c.segment_key, t.c.entered_at)
                    .where(self._dialect.is_in(t.c.profile_id, chunk))
                    .order_by(t.c.profile_id, t.c.entered_at, t.c.segment_key)
                )
                for profile_id, segment_key, entered_at in conn.execute(query):
                    found.setdefault(profile_id, {})[segment_key] = entered_at
        return found

    def segment_history(self, profile_id: str, *, limit: int = 100) -> list[SegmentChange]:
        """The profile's segment entries and exits, most recent first."""
        t = s.segment_history
        query = (
            select(*(t.c[c] for c in _SEGMENT_CHANGE_COLUMNS))
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.at.desc(), t.c.id.desc())
            .limit(limit)
        )
        return [SegmentChange(**row._mapping) for row in self._read(query)]

    def segment_sizes(self) -> dict[str, int]:
        """Current members per segment key; segments without members are absent."""
        t = s.segment_memberships
        query = select(t.c.segment_key, func.count()).group_by(t.c.segment_key)
        return {key: int(n) for key, n in self._read(query.order_by(t.c.segment_key))}

    def segment_members(
        self, segment_key: str, *, limit: int = 50, offset: int = 0
    ) -> list[tuple[str, datetime]]:
        """``(profile_id, entered_at)`` of the current members, earliest entry first."""
        t = s.segment_memberships
        query = (
            select(t.c.profile_id, t.c.entered_at)
            .where(t.c.segment_key == segment_key)
            .order_by(t.c.entered_at, t.c.profile_id)
            .limit(limit)
            .offset(offset)
        )
        return [(row.profile_id, row.entered_at) for row in self._read(query)]

    def profile_ids_in_segments(self, segment_keys: Sequence[str]) -> list[str]:
        """Distinct ids of the profiles currently in any of ``segment_keys``, sorted."""
        keys = list(dict.fromkeys(segment_keys))
        if not keys:
            return []
        t = s.segment_memberships
        found: set[str] = set()
        with self._connect() as conn:
            for chunk in _chunks(keys, self._dialect.chunk):
                query = (
                    select(t.c.profile_id)
                    .where(self._dialect.is_in(t.c.segment_key, chunk))
                    .distinct()
                )
                found.update(conn.scalars(query))
        return sorted(found)

    def _static_query(self) -> Any:
        t, m = s.static_segments, s.static_segment_members
        size = (
            select(func.count())
            .select_from(m)
            .where(m.c.key == t.c.key)
            .correlate(t)
            .scalar_subquery()
        )
        return select(*(t.c[c] for c in _STATIC_COLUMNS), size.label("size")).order_by(t.c.key)

    def static_segments(self) -> list[tuple[StaticSegment, int]]:
        """Every static segment with its size, by key."""
        rows = self._read(self._static_query())
        return [(_static_segment(row._mapping), int(row.size)) for row in rows]

    def static_segment(self, key: str) -> tuple[StaticSegment, int] | None:
        """One static segment with its size, or ``None``."""
        rows = self._read(self._static_query().where(s.static_segments.c.key == key))
        return (_static_segment(rows[0]._mapping), int(rows[0].size)) if rows else None

    def static_segment_members(self, key: str, *, limit: int = 50, offset: int = 0) -> list[str]:
        """A page of a static segment's profile ids, sorted."""
        m = s.static_segment_members
        query = (
            select(m.c.profile_id)
            .where(m.c.key == key)
            .order_by(m.c.profile_id)
            .limit(limit)
            .offset(offset)
        )
        return [row.profile_id for row in self._read(query)]

    def static_segments_of(self, profile_id: str) -> list[StaticSegment]:
        """The static segments holding the profile, by key."""
        t, m = s.static_segments, s.static_segment_members
        query = (
            select(*(t.c[c] for c in _STATIC_COLUMNS))
            .join(m, m.c.key == t.c.key)
            .where(m.c.profile_id == profile_id)
            .order_by(t.c.key)
        )
        return [_static_segment(row._mapping) for row in self._read(query)]

    def exposures(self, profile_id: str, *, limit: int = 100) -> list[Exposure]:
        """The profile's exposures, most recent first."""
        t = s.exposures
        query = (
            select(*(t.c[c] for c in _EXPOSURE_COLUMNS))
            .where(t.c.profile_id == profile_id)
            .order_by(t.c.first_at.desc(), t.c.item_id)
            .limit(limit)
        )
        return [Exposure(**row._mapping) for row in self._read(query)]

    def config_versions(self, *, limit: int = 50) -> list[ConfigVersion]:
        """Config versions this database has run, most recently loaded first."""
        t = s.config_versions
        query = (
            select(*(t.c[c] for c in _CONFIG_VERSION_COLUMNS))
            .order_by(t.c.loaded_at.desc(), t.c.version_id)
            .limit(limit)
        )
        return [ConfigVersion(**row._mapping) for row in self._read(query)]

    def config_version(self, version_id: str) -> ConfigVersion | None:
        """One config version by id, or by a prefix that names only one."""
        t = s.config_versions
        query = (
            select(*(t.c[c] for c in _CONFIG_VERSION_COLUMNS))
            .where(t.c.version_id.startswith(version_id, autoescape=True))
            .limit(2)
        )
        rows = self._read(query)
        return ConfigVersion(**rows[0]._mapping) if len(rows) == 1 else None


def _fetch(raw: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _static_segment(row: Mapping[str, Any]) -> StaticSegment:
    return StaticSegment(**{c: row[c] for c in _STATIC_COLUMNS})
