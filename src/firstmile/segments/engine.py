"""Evaluate a profile's segments from its attributes (pure).

:class:`SegmentEngine` is built once per loaded config. For a profile update it works
out which segments can have changed — those whose conditions or scores read an
attribute that changed (a dependency index over the compiled conditions), the segments
that read *those* (``segments.<key>``), and the time-dependent ones — and evaluates only
them, in the config's ``segment_order``. :func:`membership_changes` turns the old and the
new membership into entered/exited changes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import compress
from typing import Any

from firstmile.conditions.timestamps import now_seconds
from firstmile.config.model import OnboardingConfig
from firstmile.scores import ScoreResult
from firstmile.segments.attributes import is_time_dependent
from firstmile.storage.base import SegmentChangeKind

_FAMILIES = ("events", "segments", "scores", "computed")

# One segment of the evaluation order, decided when the engine is built:
# (key, condition predicate, whether it reads the time,
#  score key, compiled score, threshold min, threshold max) -- a rule segment has a
# predicate, a threshold segment has the score fields.
_Step = tuple[
    str,
    Callable[[Any, float], bool] | None,
    bool,
    str,
    Callable[[Mapping[str, Any], datetime], ScoreResult] | None,
    float,
    float | None,
]


def _root(path: str) -> str:
    # events.<name>.<counter> depends on that one event name; everything else on its head.
    head, _, rest = path.partition(".")
    if head == "events" and rest:
        return f"events.{rest.rpartition('.')[0] or rest}"
    return head


def changed_roots(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    """The attribute roots whose value differs between two attribute objects."""
    roots = {
        key
        for key in old.keys() | new.keys()
        if key not in _FAMILIES and old.get(key) != new.get(key)
    }
    old_events, new_events = old.get("events", {}), new.get("events", {})
    roots.update(
        f"events.{name}"
        for name in old_events.keys() | new_events.keys()
        if old_events.get(name) != new_events.get(name)
    )
    if old.get("computed") != new.get("computed"):
        roots.add("computed")
    return roots


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The segments a profile is in, and the scores computed on the way."""

    members: frozenset[str]
    scores: Mapping[str, ScoreResult]


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """A profile entered or left a segment."""

    segment_key: str
    change: SegmentChangeKind


class SegmentEngine:
    """Segments and scores of one config version, ready to evaluate."""

    def __init__(self, config: OnboardingConfig) -> None:
        self.config = config
        self.version = config.version_id
        self._rules = {s.key: s for s in config.segments}
        self._thresholds = {t.key: t for t in config.threshold_segments}
        self._scores = {s.key: s for s in config.scores}
        reads: dict[str, set[str]] = {}
        time_dependent: set[str] = set()
        for key, rule in self._rules.items():
            reads[key] = set(rule.attributes)
            if rule.uses_time:
                time_dependent.add(key)
        for key, threshold in self._thresholds.items():
            score = self._scores[threshold.score]
            reads[key] = set(score.attributes)
            if score.half_life is not None:
                time_dependent.add(key)  # decay lowers a score as time passes
        for key, paths in reads.items():
            # A condition reading scores.<key> depends on what that score reads.
            for path in list(paths):
                if path.startswith("scores."):
                    read_score = self._scores.get(path.split(".", 2)[1])
                    if read_score is not None:
                        paths |= set(read_score.attributes)
                        if read_score.half_life is not None:
                            time_dependent.add(key)
        self._segment_reads: dict[str, set[str]] = {}
        self._index: dict[str, set[str]] = {}
        for key, paths in reads.items():
            if any(is_time_dependent(path) for path in paths):
                time_dependent.add(key)
            for path in paths:
                root = _root(path)
                if root == "segments":
                    read = path.split(".", 2)[1] if path.count(".") else ""
                    self._segment_reads.setdefault(read, set()).add(key)
                else:
                    self._index.setdefault(root, set()).add(key)
        self.time_dependent = frozenset(time_dependent)
        steps: list[_Step] = []
        for key in config.segment_order:
            segment = self._rules.get(key)
            if segment is not None:
                compiled = segment.compiled
                steps.append((key, compiled.predicate, compiled.uses_time, "", None, 0.0, None))
            else:
                threshold = self._thresholds[key]
                score = self._scores[threshold.score]
                steps.append(
                    (key, None, False, score.key, score.compiled, threshold.min, threshold.max)
                )
        self._steps = tuple(steps)
        self._uses_time = any(step[2] for step in steps)
        self._order = tuple(config.segment_order)

    @property
    def segment_keys(self) -> tuple[str, ...]:
        return self.config.segment_order

    def affected(self, roots: Iterable[str]) -> set[str]:
        """Segments to re-evaluate when ``roots`` changed (plus time-dependent ones)."""
        todo = set(self.time_dependent)
        for root in roots:
            todo |= self._index.get(root, set())
            if root == "computed" or root.startswith("events"):
                # Conditions may read counters through computed.* or the events family.
                todo |= self._index.get("computed", set())
        frontier = list(todo)
        while frontier:
            for reader in self._segment_reads.get(frontier.pop(), ()):
                if reader not in todo:
                    todo.add(reader)
                    frontier.append(reader)
        return todo

    def evaluate(
        self,
        attributes: dict[str, Any],
        now: datetime,
        *,
        previous: Collection[str] = (),
        only: Collection[str] | None = None,
    ) -> Evaluation:
        """Membership after evaluating ``only`` (all segments when None).

        Segments not re-evaluated keep their ``previous`` membership. ``attributes`` gets
        ``segments`` and ``scores`` filled in (it is the caller's working copy).
        """
        segments: dict[str, bool] = dict.fromkeys(self._order, False)
        for key in previous:
            if key in segments:
                segments[key] = True
        attributes["segments"] = segments
        scores: dict[str, ScoreResult] = {}
        score_values: dict[str, float] = attributes.setdefault("scores", {})
        steps = self._steps if only is None else [s for s in self._steps if s[0] in only]
        now_s = now_seconds(now) if self._uses_time else 0.0
        for key, predicate, uses_time, score_key, compute, low, high in steps:
            if predicate is not None:
                segments[key] = predicate(attributes, now_s if uses_time else 0.0)
                continue
            result = scores.get(score_key)
            if result is None:
                assert compute is not None
                result = scores[score_key] = compute(attributes, now)
                score_values[score_key] = result.value
            value = result.value
            segments[key] = low <= value and (high is None or value < high)
        return Evaluation(members=frozenset(compress(segments, segments.values())), scores=scores)

    def scores(self, attributes: dict[str, Any], now: datetime) -> dict[str, ScoreResult]:
        """Every score of the config (for profile views and reasons)."""
        return {key: score.compiled(attributes, now) for key, score in self._scores.items()}


def membership_changes(
    before: Collection[str], after: Collection[str], order: Iterable[str]
) -> list[MembershipChange]:
    """Entered and exited segments, in evaluation order."""
    changes: list[MembershipChange] = []
    for key in order:
        was, now = key in before, key in after
        if was != now:
            changes.append(MembershipChange(key, "entered" if now else "exited"))
    return changes
