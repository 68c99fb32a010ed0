"""The background WAL checkpointer: the log is copied back without an inline checkpoint."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from firstmile.storage import open_store
from firstmile.storage.checkpoint import WalCheckpointer
from firstmile.storage.engine import SQLITE_CHECKPOINT_PAGES
from firstmile.storage.sql import SqlStore

DAY = "2026-11-25"


def _wait_for(condition: Callable[[], bool], *, timeout_s: float = 20.0) -> bool:
    # Polls a condition with a generous deadline; the test asserts the outcome, not a time.
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _wal_state(database: Path) -> tuple[int, int]:
    """(frames in the log, frames already in the database file), read without copying."""
    probe = sqlite3.connect(database, isolation_level=None)
    try:
        # PASSIVE reports (busy, frames in the log, frames in the database file); on a log
        # the background thread already copied it has nothing left to do.
        _busy, log, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(log), int(copied)
    finally:
        probe.close()


def test_commits_are_checkpointed_in_the_background_and_the_log_restarts(tmp_path: Path) -> None:
    database = tmp_path / "firstmile.db"
    with open_store(f"sqlite:///{database}") as store:
        assert isinstance(store, SqlStore)
        store.migrate()
        checkpointer = store._checkpointer
        assert checkpointer is not None
        for n in range(50):
            with store.write() as tx:
                tx.bump_counters(DAY, "web", {"accepted": n + 1})
        assert _wait_for(lambda: checkpointer.completed > 0)
        # The next commit starts the log again from its beginning: it stays short.
        with store.write() as tx:
            tx.bump_counters(DAY, "web", {"accepted": 1})
        log, _copied = _wal_state(database)
        assert log < 50
        assert store.counters() == {"accepted": sum(range(1, 51)) + 1}


def test_the_writer_connection_leaves_checkpoints_to_the_thread(tmp_path: Path) -> None:
    database = tmp_path / "firstmile.db"
    with open_store(f"sqlite:///{database}") as store:
        assert isinstance(store, SqlStore)
        store.migrate()
        with store._engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == SQLITE_CHECKPOINT_PAGES
    assert pages >= 40_000


def test_the_thread_ends_when_idle_and_starts_again_on_the_next_commit(tmp_path: Path) -> None:
    database = tmp_path / "firstmile.db"
    sqlite3.connect(database).execute("PRAGMA journal_mode=WAL").fetchall()
    lock = threading.Lock()
    checkpointer = WalCheckpointer(str(database), lock, interval_s=0.01, idle_exit_s=0.05)
    try:
        checkpointer.committed()
        assert _wait_for(lambda: not checkpointer.running)
        before = checkpointer.completed
        checkpointer.committed()
        assert _wait_for(lambda: checkpointer.completed > before)
    finally:
        checkpointer.close()
    assert not checkpointer.running
    checkpointer.committed()  # after close: no thread is started
    assert not checkpointer.running


def test_a_long_log_is_restarted_under_the_write_lock_once_it_is_free(tmp_path: Path) -> None:
    database = tmp_path / "firstmile.db"
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL").fetchall()
    writer.execute("CREATE TABLE t (x INTEGER)")
    lock = threading.Lock()
    # Every log counts as long here, so each round wants the lock.
    checkpointer = WalCheckpointer(str(database), lock, interval_s=0.01, reset_frames=0)
    try:
        with lock:
            writer.execute("INSERT INTO t VALUES (1)")
            checkpointer.committed()
            assert _wait_for(lambda: checkpointer.completed > 0)  # step 1 needs no lock
            assert checkpointer.locked_rounds == 0  # step 2 waits for the writer
        checkpointer.committed()
        assert _wait_for(lambda: checkpointer.locked_rounds > 0)
    finally:
        checkpointer.close()
        writer.close()


def test_a_short_log_never_takes_the_write_lock(tmp_path: Path) -> None:
    database = tmp_path / "firstmile.db"
    with open_store(f"sqlite:///{database}") as store:
        assert isinstance(store, SqlStore)
        store.migrate()
        checkpointer = store._checkpointer
        assert checkpointer is not None
        for n in range(20):
            with store.write() as tx:
                tx.bump_counters(DAY, "web", {"accepted": n + 1})
        assert _wait_for(lambda: checkpointer.completed > 0)
        assert checkpointer.locked_rounds == 0
