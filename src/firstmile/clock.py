"""Time comes from an injected clock so tests control it.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> clock = FixedClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> clock.now().isoformat()
'2026-01-01T00:00:00+00:00'
>>> clock.advance(timedelta(minutes=5))
>>> clock.now().isoformat()
'2026-01-01T00:05:00+00:00'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (for tests and simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError(
                "FixedClock needs an aware datetime, for example datetime(..., tzinfo=UTC)"
            )
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)
