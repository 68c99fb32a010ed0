"""Where firstmile keeps its data: :func:`open_store` and the :class:`Store` interface.

Only this module picks a backend; the rest of firstmile sees the Protocols of
:mod:`firstmile.storage.base`.
"""

from __future__ import annotations

from pathlib import Path

from firstmile.clock import Clock
from firstmile.errors import ConfigError
from firstmile.storage.base import Store, WriteTransaction

__all__ = ["SUPPORTED_SCHEMES", "Store", "WriteTransaction", "open_store"]

SUPPORTED_SCHEMES = ("sqlite:///<path>", "postgresql://user@host:port/database")

_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite"})
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})


def open_store(url: str, *, clock: Clock | None = None) -> Store:
    """Open the store at ``url``; the backend is chosen by the URL's scheme.

    Call :meth:`Store.migrate` before first use, and :meth:`Store.close` (or use a
    ``with`` block) when done. Opening does not connect: :meth:`Store.ping` checks that
    the database can be reached.

    Parameters
    ----------
    url
        ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (the file and its
        folder are created when missing), or ``postgresql://user:password@host:5432/db``
        (``postgres://`` works too; the psycopg 3 driver is used, query parameters such
        as ``?sslmode=require`` are passed to it).
    clock
        Source of the time for timestamps the store sets itself; the system clock by
        default.

    Returns
    -------
    Store
        An open store. It is safe to share between threads.

    Raises
    ------
    ConfigError
        The URL is malformed, has an unsupported scheme, or names an in-memory SQLite
        database.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with open_store(f"sqlite:///{folder}/data/firstmile.db") as store:
    ...         store.migrate()
    ...         store.profile_stats()
    {'profiles': 0, 'identified': 0, 'anonymous': 0, 'events': 0}
    >>> open_store("mysql://localhost/firstmile")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    firstmile.errors.ConfigError: Unsupported database URL scheme 'mysql'; ...
    """
    # Imported here so that importing firstmile.storage.base (as the pipeline does)
    # does not load SQLAlchemy.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from firstmile.storage.sql import SqlStore

    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme.lower() not in _SQLITE_SCHEMES | _POSTGRES_SCHEMES:
        raise ConfigError(
            f"Unsupported database URL scheme {scheme or url!r}; "
            f"firstmile supports {' and '.join(SUPPORTED_SCHEMES)}."
        )
    try:
        sa_url = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"Cannot read the database URL {url!r}: {exc}") from None

    if scheme.lower() in _POSTGRES_SCHEMES:
        return SqlStore(url, sa_url.set(drivername="postgresql+psycopg"), clock=clock)

    database = sa_url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ConfigError(
            f"{url!r} is not a SQLite file: firstmile needs a file path, "
            "such as sqlite:///firstmile.db, so every connection sees the same data."
        )
    path = Path(database).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the folder {str(path.parent)!r} for the SQLite database: "
            f"{exc.strerror}. Choose a path firstmile may write to."
        ) from exc
    return SqlStore(url, sa_url.set(drivername="sqlite", database=str(path)), clock=clock)
