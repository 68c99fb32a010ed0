"""What ``serve`` runs next to the requests: config reloads and the segment sweeper.

The work itself is the library's (:meth:`Firstmile.reload_config`,
:meth:`Firstmile.sweep`); :class:`ServeRuntime` only schedules it, off the event loop, and
logs what happened:

* every :data:`CONFIG_POLL_SECONDS` the config file's modification time is checked and a
  changed file is loaded: a valid one replaces the running config, an invalid one is
  reported and the last good config keeps running;
* ``SIGHUP`` reloads the file whatever its modification time (main thread only, where
  the platform supports it);
* every ``sweep_interval_seconds`` (0: never) time-dependent segments are re-evaluated;
* at start the most recently updated profiles are read into decide's profile cache;
* every :data:`EXPOSURE_FLUSH_SECONDS` the exposures decide logged are written, and every
  :data:`POPULARITY_SECONDS` (and after a new config) popular-in-segment
  recommendations are recounted;
* every :data:`BANDIT_CHECK_SECONDS` bandits whose cadence is due get new weights (and
  the decider reads every bandit's current split, including ones another process wrote);
* every :data:`MODEL_CHECK_SECONDS` (and at start) the registry's promoted models are
  loaded when they changed (hot loading: ``firstmile models promote`` or ``train`` in
  another process takes effect without a restart; a model that cannot be loaded is
  logged and the one before keeps serving).

Nothing here ever stops the server: a failure is logged and the next round runs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from firstmile.service import Firstmile

__all__ = [
    "BANDIT_CHECK_SECONDS",
    "CONFIG_POLL_SECONDS",
    "EXPOSURE_FLUSH_SECONDS",
    "POPULARITY_SECONDS",
    "ServeRuntime",
]

T = TypeVar("T")

CONFIG_POLL_SECONDS = 2.0
EXPOSURE_FLUSH_SECONDS = 1.0
BANDIT_CHECK_SECONDS = 10.0
MODEL_CHECK_SECONDS = 5.0
GC_THRESHOLDS = (50_000, 50, 100)  # the collector's generation thresholds while serving
POPULARITY_SECONDS = 300.0
# uvicorn configures this logger: the lines appear in the server log with its own.
logger = logging.getLogger("uvicorn.error")


class ServeRuntime:
    """The background tasks of one running app. :meth:`start`, then :meth:`stop`."""

    def __init__(
        self,
        fm: Firstmile,
        *,
        poll_seconds: float = CONFIG_POLL_SECONDS,
        sweep_seconds: float | None = None,
    ) -> None:
        self.fm = fm
        self.poll_seconds = poll_seconds
        if sweep_seconds is None:
            sweep_seconds = fm.settings.sweep_interval_seconds
        self.sweep_seconds = sweep_seconds
        self._stopping = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sighup = False
        self._popularity_due = True
        self._model_problems: set[str] = set()
        self._gc_before: tuple[int, int, int] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Schedule the tasks on the running loop (call from the lifespan)."""
        # Everything alive now (modules, the app, the loaded config) lives as long as the
        # server: moved out of the collector's reach, full collections stop rescanning it
        # (they paused requests for 100+ ms once the profile cache was warm).
        gc.freeze()
        # Collect the young generation every 50,000 net allocations, not 700: a decision
        # allocates a few thousand short-lived objects that reference counting frees, and
        # each collection pass (and the older-generation passes it triggers) lands in a
        # request's latency. Measured (bench/decide.py, 500 req/s, three A/B pairs): p99
        # 2.9 / 5.4 / 1.7 ms against 4.4 / 10.1 / 4.6 ms with the default thresholds.
        self._gc_before = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
        self._spawn(self._poll_config(), "firstmile-config-poll")
        if self.sweep_seconds > 0:
            self._spawn(self._sweep_periodically(), "firstmile-sweeper")
        self._spawn(self._decide_housekeeping(), "firstmile-decide-housekeeping")
        self._sighup = self._install_sighup()

    async def stop(self) -> None:
        """Stop every task; a reload or sweep in progress finishes first."""
        if self._sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._sighup = False
        self._stopping.set()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._gc_before is not None:  # an app embedded in a longer process: hand back
            gc.set_threshold(*self._gc_before)
            self._gc_before = None

    def _spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _install_sighup(self) -> bool:
        sighup = getattr(signal, "SIGHUP", None)
        if sighup is None or threading.current_thread() is not threading.main_thread():
            return False
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(sighup, self._on_sighup)
        except (NotImplementedError, RuntimeError, ValueError):
            return False
        return True

    def _on_sighup(self) -> None:
        if not self._stopping.is_set():
            self._spawn(self.reload(force=True, reason="SIGHUP"), "firstmile-sighup-reload")

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False when the runtime is stopping."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    async def _in_thread(self, work: Callable[[], T]) -> T:
        # Not cancelled half-way: stop() waits for the thread instead.
        return await asyncio.shield(asyncio.to_thread(work))

    # -- config -------------------------------------------------------------------------

    async def _poll_config(self) -> None:
        while await self._pause(self.poll_seconds):
            await self.reload(force=False, reason="file changed")

    async def reload(self, *, force: bool, reason: str) -> bool:
        """Reload the config file (in a thread) and log the outcome; never raises."""
        fm = self.fm
        async with self._reload_lock:
            previous_error = fm.config_error
            try:
                loaded = await self._in_thread(lambda: fm.reload_config(force=force))
            except Exception:
                logger.exception("config %s: reloading failed", fm.settings.config_path)
                return False
        running = fm.config
        if loaded and running is not None:
            self._popularity_due = True
            logger.info(
                "config %s loaded (%s; %d segments, %d scores)",
                running.version_id,
                reason,
                len(running.segment_keys),
                len(running.scores),
            )
        elif fm.config_error is not None and fm.config_error is not previous_error:
            kept = "no config" if running is None else f"config {running.version_id}"
            logger.warning(
                "config %s not loaded, %s keeps running: %s",
                fm.settings.config_path,
                kept,
                fm.config_error,
            )
        elif force:
            shown = "no config file" if running is None else f"config {running.version_id}"
            logger.info("%s: %s unchanged", reason, shown)
        return loaded

    # -- sweeper ------------------------------------------------------------------------

    async def _sweep_periodically(self) -> None:
        while await self._pause(self.sweep_seconds):
            await self.sweep()

    async def sweep(self) -> int:
        """One sweep (in a thread), logged; never raises."""
        try:
            changes = await self._in_thread(self.fm.sweep)
        except Exception:
            logger.exception("segment sweep failed")
            return 0
        if changes:
            logger.info("segment sweep: %d membership change%s", changes, "s" * (changes != 1))
        else:
            logger.debug("segment sweep: no membership changes")
        return changes

    # -- decide -------------------------------------------------------------------------

    async def _decide_housekeeping(self) -> None:
        await self.reload_models()  # before the long profile warm-up: models serve at once
        await self.warm_profiles()
        since_popularity = 0.0
        since_bandits = BANDIT_CHECK_SECONDS  # check the bandits at once on start
        since_models = MODEL_CHECK_SECONDS  # and load the promoted models
        while await self._pause(EXPOSURE_FLUSH_SECONDS):
            await self.flush_exposures()
            since_popularity += EXPOSURE_FLUSH_SECONDS
            since_bandits += EXPOSURE_FLUSH_SECONDS
            if self._popularity_due or since_popularity >= POPULARITY_SECONDS:
                self._popularity_due, since_popularity = False, 0.0
                await self.refresh_popularity()
            if since_bandits >= BANDIT_CHECK_SECONDS:
                since_bandits = 0.0
                await self.refresh_bandits()
            since_models += EXPOSURE_FLUSH_SECONDS
            if since_models >= MODEL_CHECK_SECONDS:
                since_models = 0.0
                await self.reload_models()
        await self.flush_exposures()  # stopping: what is pending is written

    async def warm_profiles(self) -> int:
        """Fill the profile cache at start (in a thread), then keep the cache out of the
        collector's full passes as the rest of start-up is; never raises."""
        try:
            warmed = await self._in_thread(self.fm.warm_profiles)
        except Exception:
            logger.exception("warming the profile cache failed (decisions read as usual)")
            return 0
        gc.freeze()
        logger.debug("profile cache: %d profiles read", warmed)
        return warmed

    async def refresh_bandits(self) -> int:
        """New weights for bandits that are due (in a thread); never raises."""
        try:
            return await self._in_thread(self.fm.refresh_bandits)
        except Exception:
            logger.exception("updating bandit weights failed")
            return 0

    async def reload_models(self) -> int:
        """Load newly promoted models (in a thread); logs what could not be loaded and
        never raises. Returns how many models serve now."""
        try:
            problems = await self._in_thread(self.fm.reload_models)
        except Exception:
            logger.exception("loading the promoted models failed (the loaded ones keep serving)")
            return len(self.fm.decider.models.models)
        for problem in problems:
            if problem not in self._model_problems:
                logger.warning("model not loaded: %s", problem)
        self._model_problems = set(problems)
        return len(self.fm.decider.models.models)

    async def flush_exposures(self) -> int:
        """Write the exposures logged since the last flush (in a thread); never raises."""
        try:
            written = await self._in_thread(self.fm.flush_exposures)
        except Exception:
            logger.exception("writing exposures failed (they are kept for the next try)")
            return 0
        if written:
            logger.debug("exposures: %d written", written)
        return written

    async def refresh_popularity(self) -> int:
        """Recount popular-in-segment recommendations (in a thread); never raises."""
        try:
            return await self._in_thread(self.fm.refresh_popularity)
        except Exception:
            logger.exception("recounting popular content failed")
            return 0
