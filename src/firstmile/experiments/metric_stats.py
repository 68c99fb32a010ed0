# ruff: noqa: RUF002 - the docstrings write formulas in math notation
"""Incremental sufficient statistics: how one exposure or one event changes a metric's sums.

Per experiment × variant × metric the store keeps one :class:`~firstmile.stats.Moments`
(n, Σy, Σy², Σx, Σx², Σxy) and per exposed user × metric one :class:`UserState` (their
value y, the ratio denominator d, the covariate x). Then:

* at first exposure, :func:`user_entered` gives the user's state (value 0, covariate x fixed
  now) and the delta ``n + 1, Σx + x, Σx² + x²``;
* for each later event of that user, :func:`metric_delta` gives the new state and the
  delta of the sums, written as differences (``Σy² += y_new² - y_old²``,
  ``Σxy += x·(y_new - y_old)``, ...) so the sums stay exactly those of the current per-user
  values while the values change;
* :func:`apply_delta` adds a delta to the stored moments (in SQL:
  ``UPDATE ... SET n = n + :n, sum = sum + :sum, ...``); deltas merge by addition, so a batch
  of events costs one update per row.

For a ratio metric the denominator takes the covariate slots (Σd, Σd², Σy·d in
``sum_x``, ``sum_x_sq``, ``sum_xy``; see :mod:`firstmile.stats.ratio`).

>>> from datetime import datetime, timedelta, UTC
>>> from firstmile.experiments.metrics import Metric
>>> from firstmile.stats import Moments
>>> metric = Metric("orders", "count", event="Order Completed")
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> state, delta = user_entered(metric)
>>> update = metric_delta(metric, state, "Order Completed", {}, t0 + timedelta(hours=1), t0)
>>> update.state.value, update.ignored
(1.0, None)
>>> apply_delta(apply_delta(Moments(), delta), update.delta)
Moments(n=1, sum=1.0, sum_sq=1.0, sum_x=0.0, sum_x_sq=0.0, sum_xy=0.0)
>>> metric_delta(metric, update.state, "Order Completed", {}, t0 - timedelta(days=1), t0).ignored
'the event happened before the first exposure'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from numbers import Real
from typing import NamedTuple

from firstmile.experiments.metrics import EventValue, Metric
from firstmile.stats import Moments


@dataclass(frozen=True, slots=True)
class UserState:
    """One exposed user's current value of one metric.

    ``value`` is y (0/1 for a conversion, a count, a sum, or a ratio's numerator);
    ``denominator`` is d of a ratio metric (0 otherwise); ``covariate`` is the CUPED x,
    fixed at exposure (0 without CUPED).
    """

    value: float = 0.0
    denominator: float = 0.0
    covariate: float = 0.0


@dataclass(frozen=True, slots=True)
class StatsDelta:
    """How the sums of one experiment × variant × metric change (add it to the stored row).

    The fields match :class:`~firstmile.stats.Moments` one to one. Deltas merge by addition.
    """

    n: int = 0
    sum: float = 0.0
    sum_sq: float = 0.0
    sum_x: float = 0.0
    sum_x_sq: float = 0.0
    sum_xy: float = 0.0

    @property
    def is_zero(self) -> bool:
        """True when applying it changes nothing (skip the write)."""
        return self == _ZERO

    def merge(self, other: StatsDelta) -> StatsDelta:
        """Both deltas at once (for one update per row per batch of events)."""
        return StatsDelta(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_sq=self.sum_sq + other.sum_sq,
            sum_x=self.sum_x + other.sum_x,
            sum_x_sq=self.sum_x_sq + other.sum_x_sq,
            sum_xy=self.sum_xy + other.sum_xy,
        )


_ZERO = StatsDelta()
_UNITS = (
    (timedelta(days=1), "day"),
    (timedelta(hours=1), "hour"),
    (timedelta(minutes=1), "minute"),
)


class MetricUpdate(NamedTuple):
    """What one event did to one user's metric: the new state, the delta, and if it did
    not count, why (``ignored``; None when it counted)."""

    state: UserState
    delta: StatsDelta
    ignored: str | None


def user_entered(metric: Metric, covariate: float = 0.0) -> tuple[UserState, StatsDelta]:
    """The state and delta of a user's first exposure: value 0, covariate fixed now.

    ``covariate`` is the pre-exposure value of the metric (see
    :func:`pre_exposure_value`) and must be 0 unless the metric has ``cuped=True``.
    """
    x = float(covariate)
    if not math.isfinite(x):
        raise ValueError(f"metric {metric.key!r}: the covariate must be finite, got {covariate!r}")
    if x != 0.0 and not metric.cuped:
        raise ValueError(
            f"metric {metric.key!r} has no CUPED covariate (cuped=False): pass covariate=0"
        )
    return UserState(covariate=x), StatsDelta(n=1, sum_x=x, sum_x_sq=x * x)


def metric_delta(
    metric: Metric,
    state: UserState,
    event_name: str,
    properties: Mapping[str, object],
    event_time: datetime,
    exposed_at: datetime,
) -> MetricUpdate:
    """The effect of one event of an exposed user on ``metric`` (see the module doc).

    Events before ``exposed_at`` or outside the metric's window do not count, a conversion
    counts once, and a property value that is missing or not a finite number is ignored;
    ``ignored`` says which. Both datetimes must be timezone-aware (or both naive).
    """
    try:
        elapsed = event_time - exposed_at
    except TypeError:
        raise ValueError(
            "event_time and exposed_at must both be timezone-aware (or both naive)"
        ) from None
    if elapsed.total_seconds() < 0:
        return MetricUpdate(state, _ZERO, "the event happened before the first exposure")
    if metric.window is not None and elapsed >= metric.window:
        reason = f"the event is not within {_duration(metric.window)} of the first exposure"
        return MetricUpdate(state, _ZERO, reason)
    return _contribute(metric, state, event_name, properties)


def pre_exposure_value(
    metric: Metric,
    events: Iterable[tuple[str, Mapping[str, object], datetime]],
    exposed_at: datetime,
) -> float:
    """The CUPED covariate: the metric's value over ``cuped_lookback`` before exposure.

    ``events`` are the user's ``(name, properties, time)``; those in
    ``[exposed_at - cuped_lookback, exposed_at)`` count with the metric's own rules.
    """
    if metric.kind == "ratio":
        raise ValueError(f"metric {metric.key!r}: CUPED does not apply to ratio metrics")
    start = exposed_at - metric.cuped_lookback
    state = UserState()
    for name, properties, time in events:
        if start <= time < exposed_at:
            state = _contribute(metric, state, name, properties).state
    return state.value


def apply_delta(stats: Moments, delta: StatsDelta) -> Moments:
    """``stats`` with ``delta`` added.

    A sum of squares that rounding leaves a hair below 0 (values that went up and back
    down) is clamped to 0, so the result is always valid :class:`Moments`.
    """
    return Moments(
        n=stats.n + delta.n,
        sum=stats.sum + delta.sum,
        sum_sq=max(0.0, stats.sum_sq + delta.sum_sq),
        sum_x=stats.sum_x + delta.sum_x,
        sum_x_sq=max(0.0, stats.sum_x_sq + delta.sum_x_sq),
        sum_xy=stats.sum_xy + delta.sum_xy,
    )


# -- the rules ---------------------------------------------------------------------------------


def _contribute(
    metric: Metric, state: UserState, event_name: str, properties: Mapping[str, object]
) -> MetricUpdate:
    """The update of an event already known to be in the window."""
    if metric.numerator is not None and metric.denominator is not None:
        sides = (metric.numerator, metric.denominator)
        return _contribute_ratio(metric.key, sides, state, event_name, properties)
    if event_name != metric.event:
        return MetricUpdate(state, _ZERO, f"metric {metric.key!r} does not use {event_name!r}")
    if metric.kind == "conversion":
        if state.value >= 1.0:
            return MetricUpdate(state, _ZERO, "the user already converted")
        step: float | str = 1.0
    elif metric.kind == "count":
        step = 1.0
    else:
        step = _number(properties, metric.property)
    if isinstance(step, str):
        return MetricUpdate(state, _ZERO, step)
    new = state.value + step
    if not math.isfinite(new):
        return MetricUpdate(state, _ZERO, "the new value would overflow")
    old, x = state.value, state.covariate
    change = new - old
    delta = StatsDelta(sum=change, sum_sq=change * (new + old), sum_xy=x * change)
    return MetricUpdate(UserState(new, state.denominator, x), delta, None)


def _contribute_ratio(
    key: str,
    sides: tuple[EventValue, EventValue],
    state: UserState,
    event_name: str,
    properties: Mapping[str, object],
) -> MetricUpdate:
    reasons: list[str] = []
    y, d = state.value, state.denominator
    new_y, used_y = _side(sides[0], y, event_name, properties, reasons)
    new_d, used_d = _side(sides[1], d, event_name, properties, reasons)
    if not (used_y or used_d):
        reason = "; ".join(reasons) or f"metric {key!r} does not use {event_name!r}"
        return MetricUpdate(state, _ZERO, reason)
    dy, dd = new_y - y, new_d - d
    delta = StatsDelta(
        sum=dy,
        sum_sq=dy * (new_y + y),
        sum_x=dd,
        sum_x_sq=dd * (new_d + d),
        # y_new·d_new - y·d, written so no large products cancel.
        sum_xy=dy * new_d + y * dd,
    )
    return MetricUpdate(UserState(new_y, new_d, state.covariate), delta, None)


def _side(
    side: EventValue,
    current: float,
    event_name: str,
    properties: Mapping[str, object],
    reasons: list[str],
) -> tuple[float, bool]:
    """The side's new value, and whether the event counted for it."""
    if event_name != side.event:
        return current, False
    step = 1.0 if side.property is None else _number(properties, side.property)
    if isinstance(step, str):
        reasons.append(step)
        return current, False
    new = current + step
    if not math.isfinite(new):
        reasons.append("the new value would overflow")
        return current, False
    return new, True


def _duration(value: timedelta) -> str:
    """``7 days``, ``1 day``, ``36 hours``, ``90 minutes`` or timedelta's own text."""
    for unit, name in _UNITS:
        if value % unit == timedelta(0):
            count = value // unit
            return f"{count} {name}" + ("" if count == 1 else "s")
    return str(value)


def _number(properties: Mapping[str, object], name: str | None) -> float | str:
    """The property as a finite float, or the reason it cannot be used."""
    if name is None or name not in properties:
        return f"the event has no {name!r} property"
    value = properties[name]
    if isinstance(value, bool) or not isinstance(value, Real):
        return f"property {name!r} is not a number ({type(value).__name__})"
    number = float(value)
    if not math.isfinite(number):
        return f"property {name!r} is not a finite number ({number!r})"
    return number
