"""Scores: weighted terms over traits and event counters, with recency decay, scaled 0-100.

A score is a pure function of the same attributes object conditions read, and the time:

* an **attribute term** reads a dotted path (``"plan.seats"`` reads
  ``attributes["plan"]["seats"]``);
* an **event term** reads ``attributes["events"][name]["count_1d" | "count_7d" | "count"]``
  (the 1-day, 7-day and all-time counts of a track event; event names may contain dots);
* a value counts as a number when it is one: ``true`` counts 1, ``false`` 0, and anything
  else (missing, ``null``, text, a non-finite number) counts 0;
* ``cap`` bounds the value from above before the weight applies:
  ``contribution = weight * min(value, cap) * decay``;
* **decay** (optional, event terms only) is ``0.5 ** (age / half_life)`` where ``age`` is
  ``now - attributes["last_seen"]`` (the profile's last activity; an aware ``datetime`` or
  an ISO-8601 string), never negative. Without ``last_seen`` the decay is 1. A user who
  goes quiet for one half-life keeps half of each event term's contribution.
* ``raw`` is the sum of the contributions and the score is ``raw`` mapped linearly from
  ``[scale.min, scale.max]`` onto ``[0, 100]`` and clamped: ``100 * (raw - min) / (max - min)``.

Each definition is compiled to a closure when it is built (at config load), so
:func:`compute_score` does no parsing.

Examples
--------
>>> from datetime import UTC, datetime, timedelta
>>> engaged = ScoreDefinition(
...     key="engaged",
...     name="Engaged",
...     terms=(EventTerm("Completed Step", "7d", weight=10, cap=5),
...            AttributeTerm("invited_teammates", weight=25)),
...     scale=Scale(max=75),
...     half_life=timedelta(days=7),
...     thresholds=(Threshold("engaged", min=60),),
... )
>>> now = datetime(2026, 1, 8, tzinfo=UTC)
>>> attributes = {
...     "invited_teammates": True,
...     "last_seen": "2026-01-01T00:00:00+00:00",
...     "events": {"Completed Step": {"count_7d": 8}},
... }
>>> result = compute_score(engaged, attributes, now)
>>> result.raw, round(result.value, 1), result.segments
(50.0, 66.7, ('engaged',))
>>> [(c.label, c.contribution) for c in result.contributions]
[('events.Completed Step.count_7d', 25.0), ('invited_teammates', 25.0)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, Final, Literal

EventWindow = Literal["1d", "7d", "all"]
EVENT_WINDOWS: Final[tuple[EventWindow, ...]] = ("1d", "7d", "all")
EVENT_COUNT_KEYS: Final[Mapping[str, str]] = {"1d": "count_1d", "7d": "count_7d", "all": "count"}
EVENTS_ATTRIBUTE: Final = "events"
LAST_SEEN_ATTRIBUTE: Final = "last_seen"


@dataclass(frozen=True, slots=True)
class AttributeTerm:
    """``weight * min(value, cap)`` of an attribute (a trait or a computed trait)."""

    attribute: str
    weight: float
    cap: float | None = None

    @property
    def label(self) -> str:
        return self.attribute


@dataclass(frozen=True, slots=True)
class EventTerm:
    """``weight * min(count, cap) * decay`` of a track event's count over a window."""

    event: str
    window: EventWindow
    weight: float
    cap: float | None = None

    @property
    def label(self) -> str:
        return f"{EVENTS_ATTRIBUTE}.{self.event}.{EVENT_COUNT_KEYS[self.window]}"


Term = AttributeTerm | EventTerm


@dataclass(frozen=True, slots=True)
class Scale:
    """Linear map of the raw sum onto 0..100: ``min`` gives 0, ``max`` gives 100."""

    max: float
    min: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min) and math.isfinite(self.max) and self.max > self.min):
            raise ValueError(f"scale needs finite min < max, not {self.min}..{self.max}")

    def apply(self, raw: float) -> float:
        """Map a raw value to 0..100 (NaN maps to 0).

        >>> Scale(max=50).apply(10), Scale(max=50).apply(80), Scale(min=-10, max=10).apply(0)
        (20.0, 100.0, 50.0)
        """
        position = (raw - self.min) / (self.max - self.min)
        if not position > 0.0:  # also NaN
            return 0.0
        if position >= 1.0:
            return 100.0
        return 100.0 * position


@dataclass(frozen=True, slots=True)
class Threshold:
    """Score-defined segment: members have ``min <= score < max`` (no ``max``: up to 100)."""

    segment: str
    min: float
    max: float | None = None

    def contains(self, value: float) -> bool:
        return value >= self.min and (self.max is None or value < self.max)


@dataclass(frozen=True, slots=True)
class TermContribution:
    """What one term added to a score: the value read (after the cap), the decay, the sum."""

    term: Term
    value: float
    decay: float
    contribution: float

    @property
    def label(self) -> str:
        return self.term.label


class ScoreResult:
    """A computed score: ``value`` in 0..100, the ``raw`` sum, and why.

    ``contributions`` (one per term, in declared order) may be given as a tuple or as a
    function building it: the compiled score passes a function, so the explanation is only
    built when somebody reads it (segment evaluation reads ``value`` alone). Immutable: the
    fields are read-only properties.

    >>> result = ScoreResult("s", 50.0, 5.0, (), ("half",))
    >>> result.value, result.segments, result.contributions
    (50.0, ('half',), ())
    >>> result == ScoreResult("s", 50.0, 5.0, lambda: (), ("half",))
    True
    """

    # Read-only properties over private slots, rather than public slots behind a
    # __setattr__ that refuses: profile views build a result per score, and assigning
    # plain slots costs a third of going through object.__setattr__.
    __slots__ = ("_contributions", "_key", "_raw", "_segments", "_value")

    def __init__(
        self,
        key: str,
        value: float,
        raw: float,
        contributions: tuple[TermContribution, ...] | Callable[[], tuple[TermContribution, ...]],
        segments: tuple[str, ...],
    ) -> None:
        self._key = key
        self._value = value
        self._raw = raw
        self._contributions = contributions
        self._segments = segments

    @property
    def key(self) -> str:
        return self._key

    @property
    def value(self) -> float:
        """The score, 0..100."""
        return self._value

    @property
    def raw(self) -> float:
        """The sum of the contributions, before scaling."""
        return self._raw

    @property
    def segments(self) -> tuple[str, ...]:
        """The threshold segments the value falls in, in declared order."""
        return self._segments

    @property
    def contributions(self) -> tuple[TermContribution, ...]:
        """What each term added, in declared order (built on first read)."""
        contributions = self._contributions
        if callable(contributions):
            contributions = self._contributions = contributions()
        return contributions

    def _fields(self) -> tuple[Any, ...]:
        return (self.key, self.value, self.raw, self.contributions, self.segments)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not ScoreResult:
            return NotImplemented
        assert isinstance(other, ScoreResult)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"ScoreResult(key={self.key!r}, value={self.value!r}, raw={self.raw!r}, "
            f"contributions={self.contributions!r}, segments={self.segments!r})"
        )


CompiledScore = Callable[[Mapping[str, Any], datetime], ScoreResult]

Measured = tuple[float, float, list[float], float]
"""What a compiled score measures: (value, raw, the value of each term after its cap, decay).

Everything a :class:`ScoreResult` holds, without building one (see
:meth:`ScoreDefinition.result`).
"""

MeasureScore = Callable[[Mapping[str, Any], datetime], Measured]


@dataclass(frozen=True, slots=True)
class ScoreDefinition:
    """One score as declared in the config; compiled once, when it is built.

    ``compiled(attributes, now)`` computes the :class:`ScoreResult`. ``measure(attributes,
    now)`` computes the same numbers without the result object, for segment evaluation,
    which reads the value alone and builds results only when asked (:meth:`result`).
    """

    key: str
    name: str
    terms: tuple[Term, ...]
    scale: Scale
    description: str = ""
    half_life: timedelta | None = None
    thresholds: tuple[Threshold, ...] = ()
    measure: MeasureScore = field(init=False, repr=False, compare=False)
    compiled: CompiledScore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.half_life is not None and self.half_life <= timedelta(0):
            raise ValueError("half_life must be positive")
        measure = compile_measure(self)
        object.__setattr__(self, "measure", measure)
        object.__setattr__(self, "compiled", _scored(self, measure))

    def result(self, measured: Measured) -> ScoreResult:
        """The :class:`ScoreResult` of a measurement (contributions built on first read)."""
        value, raw, values, decay = measured
        segments = tuple(t.segment for t in self.thresholds if t.contains(value))
        return ScoreResult(self.key, value, raw, partial(_explain, self, values, decay), segments)

    @property
    def attributes(self) -> frozenset[str]:
        """Attribute paths the score reads (for the re-evaluation dependency index)."""
        read = {term.label for term in self.terms}
        if self.half_life is not None and any(isinstance(t, EventTerm) for t in self.terms):
            read.add(LAST_SEEN_ATTRIBUTE)
        return frozenset(read)


def number(value: Any) -> float:
    """A value as a score term reads it.

    >>> number(3), number(True), number("3"), number(None), number(float("inf"))
    (3.0, 1.0, 0.0, 0.0, 0.0)
    """
    kind = type(value)
    if kind is bool:
        return 1.0 if value else 0.0
    if kind is int or kind is float:
        try:
            result = float(value)
        except OverflowError:  # an int beyond float range
            return 0.0
        return result if math.isfinite(result) else 0.0
    return 0.0


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, str):
        return _parse_time(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@lru_cache(maxsize=256)
def _parse_time(text: str) -> datetime | None:
    # Every score of one evaluation reads the same last_seen: parse it once.
    try:
        value: datetime = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _age_seconds(last_seen: Any, now: datetime) -> float | None:
    seen = _as_time(last_seen)
    if seen is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now - seen).total_seconds()


_cached_age_seconds = lru_cache(maxsize=256)(_age_seconds)


def decay_factor(half_life: timedelta, last_seen: Any, now: datetime) -> float:
    """``0.5 ** (age / half_life)``; 1 when ``last_seen`` is missing, unreadable or ahead.

    >>> from datetime import UTC, datetime, timedelta
    >>> now = datetime(2026, 1, 15, tzinfo=UTC)
    >>> decay_factor(timedelta(days=7), "2026-01-08T00:00:00Z", now)
    0.5
    >>> decay_factor(timedelta(days=7), None, now)
    1.0
    """
    return _decay(half_life.total_seconds(), last_seen, now)


def _decay(half_life_seconds: float, last_seen: Any, now: datetime) -> float:
    if type(last_seen) is str:
        age = _cached_age_seconds(last_seen, now)
    else:
        age = _age_seconds(last_seen, now)
    if age is None or age <= 0:
        return 1.0
    return float(0.5 ** (age / half_life_seconds))


# How a compiled score reads a term: (event name, count key, None) for an event term,
# (None, attribute, None) for an attribute term with a one-part path (the usual case),
# (None, "", path parts) for a longer path; then the term's weight, its cap (infinite
# when none) and whether it decays.
_Reader = tuple[str | None, str, tuple[str, ...] | None, float, float, bool]


def _read_path(attributes: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = attributes
    for part in parts:
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _plan(definition: ScoreDefinition) -> tuple[tuple[_Reader, ...], float | None]:
    """How to read each term, and the half-life in seconds (None: nothing decays)."""
    readers: list[_Reader] = []
    for term in definition.terms:
        cap = math.inf if term.cap is None else term.cap
        decays = definition.half_life is not None and isinstance(term, EventTerm)
        if isinstance(term, EventTerm):
            count_key = EVENT_COUNT_KEYS[term.window]
            readers.append((term.event, count_key, None, float(term.weight), cap, decays))
        else:
            parts = tuple(term.attribute.split("."))
            key, path = (parts[0], None) if len(parts) == 1 else ("", parts)
            readers.append((None, key, path, float(term.weight), cap, decays))
    plan = tuple(readers)
    half_life_seconds = (
        definition.half_life.total_seconds()
        if definition.half_life is not None and any(r[5] for r in plan)
        else None
    )
    return plan, half_life_seconds


def _explain(
    definition: ScoreDefinition, values: list[float], decay: float
) -> tuple[TermContribution, ...]:
    """The contributions of one measurement (the values read, after the caps)."""
    contributions = []
    for term, value in zip(definition.terms, values, strict=True):
        decays = definition.half_life is not None and isinstance(term, EventTerm)
        factor = decay if decays else 1.0
        contributions.append(
            TermContribution(term, value, factor, float(term.weight) * value * factor)
        )
    return tuple(contributions)


def _scored(definition: ScoreDefinition, measure: MeasureScore) -> CompiledScore:
    result = definition.result
    return lambda attributes, now: result(measure(attributes, now))


def compile_score(definition: ScoreDefinition) -> CompiledScore:
    """The score as one closure ``(attributes, now) -> ScoreResult``.

    A call reads each term once, computes the decay once, and leaves the per-term
    explanation (``contributions``) to be built on demand.
    """
    return _scored(definition, compile_measure(definition))


def compile_measure(definition: ScoreDefinition) -> MeasureScore:
    """The score as one closure ``(attributes, now) -> Measured``.

    Everything that does not depend on the profile is decided here: the getters, the
    weights and caps, which terms decay.
    """
    plan, half_life_seconds = _plan(definition)
    return _measure(plan, half_life_seconds, definition.scale)


def _measure(
    plan: tuple[_Reader, ...], half_life_seconds: float | None, scale: Scale
) -> MeasureScore:
    """The closure of :func:`compile_measure`, over what it decided."""
    scale_min = scale.min
    scale_span = scale.max - scale.min
    isfinite = math.isfinite

    def measure(attributes: Mapping[str, Any], now: datetime) -> Measured:
        decay = 1.0
        if half_life_seconds is not None:
            decay = _decay(half_life_seconds, attributes.get(LAST_SEEN_ATTRIBUTE), now)
        events = attributes.get(EVENTS_ATTRIBUTE)
        if type(events) is not dict and not isinstance(events, Mapping):
            events = None
        raw = 0.0
        values: list[float] = []
        for event, name, parts, weight, cap, decays in plan:
            if event is None:
                if parts is None:
                    found: Any = attributes.get(name)
                else:
                    found = _read_path(attributes, parts)
            elif events is None:
                found = None
            else:
                counts = events.get(event)
                # A user who never sent the event has no counts: skip the Mapping test.
                if type(counts) is dict or (counts is not None and isinstance(counts, Mapping)):
                    found = counts.get(name)
                else:
                    found = None
            # number(found), inlined for the counts and numbers nearly every term reads
            kind = found.__class__
            if kind is int:
                try:
                    value = float(found)
                except OverflowError:  # an int beyond float range
                    value = 0.0
            elif kind is float:
                value = found if isfinite(found) else 0.0
            elif found is None:
                value = 0.0
            else:
                value = number(found)  # a boolean, or something that counts 0
            if cap < value:  # noqa: PLR1730 (min() is a call per term)
                value = cap
            values.append(value)
            # The same arithmetic as the definition, term by term: results are exact.
            raw += weight * value * decay if decays else weight * value
        # scale.apply(raw), inlined
        position = (raw - scale_min) / scale_span
        if not position > 0.0:  # also NaN
            scaled = 0.0
        elif position >= 1.0:
            scaled = 100.0
        else:
            scaled = 100.0 * position
        return scaled, raw, values, decay

    return measure


def compute_score(
    definition: ScoreDefinition, attributes: Mapping[str, Any], now: datetime
) -> ScoreResult:
    """The score of one profile's ``attributes`` at ``now`` (see the module docstring)."""
    return definition.compiled(attributes, now)
