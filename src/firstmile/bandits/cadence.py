"""When weights are recomputed, and the epoch number that seeds each recomputation.

Weights change only once per ``cadence``: time is cut into epochs of that length from the
bandit's start, every process computes the weights of an epoch from the same statistics
and the same seed, and users keep their arm for the whole epoch.

>>> from datetime import datetime, timedelta, timezone
>>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> epoch_of(start + timedelta(hours=5, minutes=59), start=start, cadence=timedelta(hours=1))
5
>>> weights_due(start, start + timedelta(minutes=30), timedelta(hours=1))
False
>>> weights_due(None, start, timedelta(hours=1))
True
"""

from __future__ import annotations

from datetime import datetime, timedelta


def weights_due(last_update: datetime | None, now: datetime, cadence: timedelta) -> bool:
    """Whether the weights should be recomputed at ``now``.

    True when there was no update yet, when ``cadence`` has passed since ``last_update``,
    or when ``last_update`` is later than ``now`` (a clock moved back: recomputing is safe,
    keeping weights "from the future" is not). Raises ValueError for a cadence that is not
    positive or for mixing naive and timezone-aware datetimes.
    """
    _check_cadence(cadence)
    _check_time(now, "now")
    if last_update is None:
        return True
    _check_time(last_update, "last_update")
    _check_same_kind(last_update, now)
    elapsed = now - last_update
    return elapsed < timedelta(0) or elapsed >= cadence


def epoch_of(now: datetime, *, start: datetime, cadence: timedelta) -> int:
    """``floor((now - start) / cadence)``: the number of the update period ``now`` falls in.

    Seed the draws of :func:`~firstmile.bandits.thompson.thompson_weights` with it. Before
    ``start`` the epoch is negative (still a valid seed). Raises ValueError for a cadence
    that is not positive or for mixing naive and timezone-aware datetimes.
    """
    _check_cadence(cadence)
    _check_time(now, "now")
    _check_time(start, "start")
    _check_same_kind(start, now)
    return (now - start) // cadence


def epoch_start(epoch: int, *, start: datetime, cadence: timedelta) -> datetime:
    """When ``epoch`` begins (the weights of that epoch are valid until the next one).

    >>> from datetime import datetime, timedelta
    >>> epoch_start(3, start=datetime(2026, 1, 1), cadence=timedelta(hours=6))
    datetime.datetime(2026, 1, 1, 18, 0)
    """
    _check_cadence(cadence)
    _check_time(start, "start")
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        raise ValueError(f"epoch must be a whole number, got {epoch!r}")
    return start + epoch * cadence


def _check_cadence(cadence: object) -> None:
    if not isinstance(cadence, timedelta) or cadence <= timedelta(0):
        raise ValueError(f"cadence must be a positive datetime.timedelta, got {cadence!r}")


def _check_time(value: object, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")


def _check_same_kind(first: datetime, second: datetime) -> None:
    if (first.utcoffset() is None) != (second.utcoffset() is None):
        raise ValueError(
            "cannot compare a naive datetime with a timezone-aware one: "
            "give both a timezone (firstmile's clock uses UTC)"
        )
