"""SQLite write-ahead-log checkpoints on a background thread, off the request path.

In WAL mode every commit appends the pages it changed to the ``-wal`` file; a
*checkpoint* copies them back into the database file and syncs it. SQLite runs one
inline, inside whichever commit pushes the log past ``wal_autocheckpoint`` pages: that
request then holds the write lock for tens of milliseconds (measured: ~85 ms for a
10,000-page log, once every ~20 ingest requests of 100 events), and every writer queues
behind it.

:class:`WalCheckpointer` moves that work to a daemon thread with its own connection:

1. a ``PASSIVE`` checkpoint without any lock copies the log while writers go on (SQLite
   lets a passive checkpoint run beside a writer; the sqlite3 module releases the GIL
   while it runs, so request threads keep working too). When it catches up between two
   commits, the next writer starts the log again from its beginning;
2. only when the log has grown past :data:`RESET_FRAMES` anyway (commits never left a
   gap), a second ``PASSIVE`` checkpoint runs holding the process's write lock, so the
   log is wholly copied and restarts. Not on every round: a checkpoint syncs the file,
   and a writer waiting on that lock for a sync costs more than the checkpoint saves
   (measured: 43 us per event of lock waits when this step ran every round).

The inline ``wal_autocheckpoint`` stays on as the safety net (a stalled thread or another
process writing the same file), set higher than the log ever gets while this thread
keeps up. The thread starts on the first commit and ends after a quiet spell, so idle
stores hold no thread.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Final

#: How often the thread checkpoints while commits keep coming.
CHECKPOINT_INTERVAL_S: Final = 0.2
#: With no commit for this long the thread ends (the next commit starts another).
IDLE_EXIT_S: Final = 5.0
#: How long step 2 waits for the write lock before leaving it to the next round.
LOCK_WAIT_S: Final = 0.05
#: A log this long (64 MiB of 4 KiB pages) is restarted under the write lock (step 2).
RESET_FRAMES: Final = 16_000
#: Unlocked passes to run while more than LOCKED_PASS_FRAMES are still to copy.
CATCH_UP_PASSES: Final = 4
LOCKED_PASS_FRAMES: Final = 1_000


class WalCheckpointer:
    """Checkpoints one SQLite file's WAL in the background after commits.

    Parameters
    ----------
    database
        Path of the SQLite database file.
    write_lock
        The lock this process's writers hold (see ``sqlite_write_lock``).
    interval_s
        Seconds between checkpoints while commits keep arriving.
    """

    def __init__(
        self,
        database: str,
        write_lock: threading.Lock,
        *,
        interval_s: float = CHECKPOINT_INTERVAL_S,
        idle_exit_s: float = IDLE_EXIT_S,
        reset_frames: int = RESET_FRAMES,
    ) -> None:
        self._database = database
        self._write_lock = write_lock
        self._interval_s = interval_s
        self._idle_rounds = max(1, round(idle_exit_s / interval_s))
        self._reset_frames = reset_frames
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._commits = 0
        self._closed = threading.Event()
        #: Checkpoints that found the log fully copied (for tests and diagnostics).
        self.completed = 0
        #: Step-2 checkpoints run under the write lock (for tests and diagnostics).
        self.locked_rounds = 0

    @property
    def running(self) -> bool:
        """Whether the background thread is alive (it ends after a quiet spell)."""
        with self._guard:
            return self._thread is not None

    def committed(self) -> None:
        """Note a commit; starts the thread if it is not running. Cheap: call after each."""
        with self._guard:
            self._commits += 1
            if self._thread is None:
                self._start_locked()

    def _start_locked(self) -> None:
        if self._closed.is_set():
            return
        self._thread = threading.Thread(
            target=self._run, name="firstmile-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (after a last checkpoint); later commits start none."""
        self._closed.set()
        with self._guard:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _take_commits(self) -> int:
        with self._guard:
            commits, self._commits = self._commits, 0
            return commits

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, isolation_level=None, timeout=0)
        try:
            quiet = 0
            while quiet < self._idle_rounds:
                stopping = self._closed.wait(self._interval_s)
                if self._take_commits():
                    quiet = 0
                    self._checkpoint(connection)
                else:
                    quiet += 1
                if stopping:
                    break
        finally:
            connection.close()
            with self._guard:
                self._thread = None
                if self._commits:  # a commit slipped in while the thread was ending
                    self._start_locked()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            busy, log, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            # Catch up without the lock first: each pass copies what the writer appended
            # during the one before, so what is left for the locked pass is small.
            for _ in range(CATCH_UP_PASSES):
                if busy or log - copied <= LOCKED_PASS_FRAMES:
                    break
                busy, log, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if log >= self._reset_frames and self._write_lock.acquire(timeout=LOCK_WAIT_S):
                try:
                    busy, log, copied = connection.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    self.locked_rounds += 1
                finally:
                    self._write_lock.release()
            if not busy and log == copied:
                self.completed += 1
        except sqlite3.Error:
            # A busy or vanished file: the inline autocheckpoint remains the safety net,
            # and the next round tries again.
            return
