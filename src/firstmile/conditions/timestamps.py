"""Relative time: ``$within`` and ``$olderThan`` (firstmile extensions to GrowthBook's language).

``{"signed_up_at": {"$within": "7d"}}`` matches when the timestamp is at most 7 days before
"now" (a timestamp in the future is within any window); ``{"$olderThan": "7d"}`` matches when
it is more than 7 days before now. For a timestamp that can be read, exactly one of the two
holds; for a missing or unreadable one, neither does.

A duration is one or more ``<whole number><unit>`` groups, with units ``s`` (seconds),
``m`` (minutes), ``h`` (hours), ``d`` (days) and ``w`` (weeks): ``"30m"``, ``"12h"``,
``"7d"``, ``"2w"``, ``"1d12h"``. Months and years have no fixed length and are not units.

A timestamp is an ISO-8601 string (``"2026-11-20T09:30:00Z"``, ``"2026-11-20"``), a
``datetime`` or ``date``, or a number of seconds since 1970-01-01 UTC; a number of
100,000,000,000 or more is taken as milliseconds (JavaScript's ``Date.now()``). A timestamp
without a time zone is UTC.

>>> parse_duration("1d12h")
129600.0
>>> timestamp_seconds("1970-01-02"), timestamp_seconds(1_795_564_800_000), timestamp_seconds("x")
(86400.0, 1795564800.0, None)
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Final

UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MILLISECONDS_FROM: Final = 100_000_000_000
_DURATION = re.compile(r"(?:[0-9]+[smhdw])+")
_GROUP = re.compile(r"([0-9]+)([smhdw])")


def parse_duration(text: str) -> float | None:
    """Seconds in a duration such as ``"7d"`` or ``"1h30m"``; None when it is not one."""
    compact = text.replace(" ", "")
    if len(compact) > 64 or not _DURATION.fullmatch(compact):
        return None
    return float(sum(int(n) * UNIT_SECONDS[unit] for n, unit in _GROUP.findall(compact)))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def timestamp_seconds(value: Any) -> float | None:
    """Seconds since the epoch for a timestamp attribute; None when it is not one."""
    kind = type(value)
    if kind is str:
        return text_seconds(value)
    if kind is int or kind is float:
        seconds = float(value) if kind is float or abs(value) < 2**63 else math.nan
        if not math.isfinite(seconds):
            return None
        return seconds / 1000 if abs(seconds) >= MILLISECONDS_FROM else seconds
    if isinstance(value, datetime):
        return _aware(value).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return None


@lru_cache(maxsize=1024)
def text_seconds(text: str) -> float | None:
    """:func:`timestamp_seconds` of a string (cached).

    One profile's timestamps are read by several conditions of an evaluation (``last_seen``
    by every ``$within`` on it), and parsing is the dearest part of reading one.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _aware(moment).timestamp()


def now_seconds(now: datetime | None) -> float:
    """The evaluation's "now" as epoch seconds: the given time, else the current UTC time."""
    return datetime.now(UTC).timestamp() if now is None else _epoch_seconds(now)


@lru_cache(maxsize=16)
def _epoch_seconds(moment: datetime) -> float:
    # Callers evaluate many conditions at one given time, each converting it.
    return _aware(moment).timestamp()
