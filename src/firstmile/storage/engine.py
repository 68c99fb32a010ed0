"""SQLAlchemy engines configured for firstmile: JSON codec, SQLite pragmas and locking.

Private to the storage package; :func:`firstmile.storage.open_store` is the public entry.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Final

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import ConnectionPoolEntry

# Execution option a connection carries when it must open its transaction with
# BEGIN IMMEDIATE (SQLite write transactions); read by the "begin" hook below.
BEGIN_MODE: Final = "firstmile_sqlite_begin"

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
SQLITE_CACHE_KIB: Final = 32 * 1024
# The inline checkpoint is only the safety net: storage.checkpoint copies the log back on
# a background thread well before it gets this long (160 MB of 4 KiB pages).
SQLITE_CHECKPOINT_PAGES: Final = 40_000
POSTGRES_CONNECT_TIMEOUT_S: Final = 10

# orjson cannot write integers beyond 64 bits and reads them back as floats, losing
# digits. The rare document that holds one is written by the stdlib instead, with a
# leading space (still valid JSON) that tells json_loads to read it with the stdlib too,
# so every other read stays on orjson's fast path.
_EXACT_MARK: Final = " "


def json_dumps(value: Any) -> str:
    """Serialize with orjson, falling back to the stdlib for integers beyond 64 bits."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _EXACT_MARK + json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_loads(data: str | bytes) -> Any:
    """Inverse of :func:`json_dumps`; accepts ``bytes`` too (psycopg hands those over)."""
    first = data[:1]
    if first in (_EXACT_MARK, b" "):
        return json.loads(data)
    return orjson.loads(data)


def create_sql_engine(url: URL) -> Engine:
    """An engine for ``url`` (``sqlite`` or ``postgresql+psycopg``) with firstmile's setup."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            json_serializer=json_dumps,
            json_deserializer=json_loads,
            # SQLite connections are cheap; a request thread pool should not queue on them.
            pool_size=8,
            max_overflow=-1,
            # Reuse the most recent connection: its page cache is the warm one.
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    return create_engine(
        url,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
        connect_args=connect_args,
        pool_pre_ping=True,  # survive a PostgreSQL restart without failing requests
    )


def _sqlite_on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    # SQLAlchemy's documented recipe: stop the sqlite3 module from issuing BEGIN itself
    # (it skips it before SELECT and DDL), and issue BEGIN from the "begin" hook instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers run while one writer commits; NORMAL is durable across
        # application crashes (a power loss may lose the last transactions, not corrupt).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Ingest dirties a few random B-tree pages per event (dedupe ledger, event index,
        # profile rows). A larger page cache keeps the hot ones in memory; checkpoints run
        # on a background thread (storage.checkpoint); journal_size_limit hands the WAL's
        # disk space back after one.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
        cursor.execute("PRAGMA temp_store=MEMORY")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A write transaction takes the write lock up front (IMMEDIATE). A deferred one that
    # reads first and writes later cannot wait for the lock: SQLite fails it at once with
    # "database is locked" whatever the busy timeout, as the snapshot it read may be stale.
    mode = conn.get_execution_options().get(BEGIN_MODE, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


_locks_guard = threading.Lock()
_sqlite_write_locks: dict[str, threading.Lock] = {}


def sqlite_write_lock(database: str) -> threading.Lock:
    """The process-wide lock that serializes writes to one SQLite file.

    Stores opened twice on the same file in one process share it, so their writers queue
    in Python instead of spinning in SQLite's busy handler.
    """
    key = os.path.realpath(database)
    with _locks_guard:
        return _sqlite_write_locks.setdefault(key, threading.Lock())
