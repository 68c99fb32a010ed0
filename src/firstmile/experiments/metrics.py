"""Metric definitions: what an experiment measures per exposed user, validated when built.

Every exposed user has one value per metric, measured from their first exposure:

* ``conversion`` — 1 when ``event`` happened within ``window`` after exposure, else 0;
* ``count`` — how many ``event`` events happened within the window;
* ``sum`` — the sum of the numeric ``property`` of those events (revenue, seconds, ...);
* ``ratio`` — two per-user sums, ``numerator`` over ``denominator`` (each an event, counted
  or summed over a property), compared as ``Σ numerator / Σ denominator`` per variant.

A metric with ``guardrail=True`` is watched for harm rather than optimized; ``direction``
says which way is good. ``cuped=True`` asks for variance reduction with the same metric
measured over ``cuped_lookback`` before exposure (not for ratio metrics). ``mde`` is the
smallest effect worth detecting, used to say how many more users a test needs.

>>> signup = Metric("signup", "conversion", event="Signed Up")
>>> signup.window, signup.events
(datetime.timedelta(days=7), frozenset({'Signed Up'}))
>>> Metric("revenue", "sum", event="Order Completed")
Traceback (most recent call last):
...
ValueError: metric 'revenue': a sum metric needs property= (the numeric event property to add up)
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

MetricKind = Literal["conversion", "count", "sum", "ratio"]
Direction = Literal["increase", "decrease"]
MdeKind = Literal["relative", "absolute"]

KINDS: Final[tuple[MetricKind, ...]] = ("conversion", "count", "sum", "ratio")
DIRECTIONS: Final[tuple[Direction, ...]] = ("increase", "decrease")
MDE_KINDS: Final[tuple[MdeKind, ...]] = ("relative", "absolute")
DEFAULT_WINDOW: Final = timedelta(days=7)
"""How long after first exposure events count, unless a metric says otherwise."""
DEFAULT_LOOKBACK: Final = timedelta(days=14)
"""How far before exposure the CUPED covariate is measured, unless a metric says otherwise."""
DEFAULT_MDE: Final = 0.05
"""The default minimum detectable effect: a 5% relative change."""


@dataclass(frozen=True, slots=True)
class EventValue:
    """One side of a ratio metric: ``event`` counted, or its numeric ``property`` summed.

    >>> EventValue("Order Completed", "revenue")
    EventValue(event='Order Completed', property='revenue')
    """

    event: str
    property: str | None = None

    def __post_init__(self) -> None:
        if not _is_name(self.event):
            raise ValueError(f"a ratio side needs an event name, got {self.event!r}")
        if self.property is not None and not _is_name(self.property):
            raise ValueError(
                f"the property of {self.event!r} must be a non-empty name or None (to count "
                f"events), got {self.property!r}"
            )


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric of an experiment (see the module doc); a bad definition raises ValueError.

    ``window`` is how long after a user's first exposure their events count (half-open:
    ``exposed_at <= time < exposed_at + window``); None counts every event after exposure
    until the experiment ends. The default of 7 days measures early and late users over
    the same span. ``mde`` is relative (0.05 = 5% of the control's value) or, with
    ``mde_kind="absolute"``, in the metric's own units.
    """

    key: str
    kind: MetricKind
    event: str | None = None
    property: str | None = None
    numerator: EventValue | None = None
    denominator: EventValue | None = None
    window: timedelta | None = DEFAULT_WINDOW
    guardrail: bool = False
    direction: Direction = "increase"
    cuped: bool = False
    cuped_lookback: timedelta = DEFAULT_LOOKBACK
    mde: float = DEFAULT_MDE
    mde_kind: MdeKind = "relative"

    def __post_init__(self) -> None:
        _check(self)

    @builtins.property  # the field `property` shadows the builtin in this class body
    def events(self) -> frozenset[str]:
        """The event names this metric reads (route only these events to it)."""
        if self.numerator is not None and self.denominator is not None:
            return frozenset({self.numerator.event, self.denominator.event})
        return frozenset({self.event}) if self.event is not None else frozenset()


def _check(metric: Metric) -> None:
    if not _is_name(metric.key):
        raise ValueError(f"a metric needs a key (a non-empty name), got {metric.key!r}")

    def fail(message: str) -> ValueError:
        return ValueError(f"metric {metric.key!r}: {message}")

    if metric.kind not in KINDS:
        raise fail(f"kind must be one of {', '.join(KINDS)}; got {metric.kind!r}")
    if metric.kind == "ratio":
        _check_ratio(metric, fail)
    else:
        if metric.numerator is not None or metric.denominator is not None:
            raise fail(f"numerator= and denominator= are for ratio metrics, not {metric.kind}")
        if not _is_name(metric.event):
            raise fail(f"a {metric.kind} metric needs event= (the event name to look for)")
        if metric.kind == "sum" and metric.property is None:
            raise fail("a sum metric needs property= (the numeric event property to add up)")
        if metric.kind != "sum" and metric.property is not None:
            raise fail(f"property= is for sum metrics; a {metric.kind} metric counts events")
        if metric.property is not None and not _is_name(metric.property):
            raise fail(f"property must be a non-empty name, got {metric.property!r}")
    if metric.window is not None and not _positive_duration(metric.window):
        raise fail(
            f"window must be a positive timedelta (or None: until the end), got {metric.window!r}"
        )
    if not _positive_duration(metric.cuped_lookback):
        raise fail(f"cuped_lookback must be a positive timedelta, got {metric.cuped_lookback!r}")
    if metric.direction not in DIRECTIONS:
        raise fail(
            f"direction must be 'increase' or 'decrease' (the good way), got {metric.direction!r}"
        )
    for name in ("guardrail", "cuped"):
        if not isinstance(getattr(metric, name), bool):
            raise fail(f"{name} must be True or False, got {getattr(metric, name)!r}")
    if metric.mde_kind not in MDE_KINDS:
        raise fail(f"mde_kind must be 'relative' or 'absolute', got {metric.mde_kind!r}")
    mde = metric.mde
    if isinstance(mde, bool) or not isinstance(mde, int | float) or not math.isfinite(mde):
        raise fail(f"mde must be a finite number > 0, got {mde!r}")
    if mde <= 0:
        raise fail(f"mde must be > 0 (the smallest effect worth detecting), got {mde!r}")
    if metric.kind == "conversion" and metric.mde_kind == "absolute" and mde >= 1:
        raise fail(f"an absolute mde of a conversion rate must be below 1, got {mde!r}")


def _check_ratio(metric: Metric, make: Callable[[str], ValueError]) -> None:
    if metric.numerator is None or metric.denominator is None:
        raise make(
            "a ratio metric needs numerator= and denominator= "
            "(each an EventValue: an event, and a property to sum or None to count)"
        )
    for side in ("numerator", "denominator"):
        if not isinstance(getattr(metric, side), EventValue):
            raise make(f"{side} must be an EventValue, got {getattr(metric, side)!r}")
    if metric.event is not None or metric.property is not None:
        raise make("a ratio metric takes numerator= and denominator=, not event= or property=")
    if metric.cuped:
        raise make(
            "CUPED does not apply to ratio metrics (the denominator takes the covariate's "
            "place in the statistics); set cuped=False"
        )


def _is_name(value: object) -> bool:
    return isinstance(value, str) and value.strip() != "" and value == value.strip()


def _positive_duration(value: object) -> bool:
    return isinstance(value, timedelta) and value > timedelta(0)
