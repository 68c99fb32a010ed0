"""Evaluate a profile's segments from its attributes (pure).

:class:`SegmentEngine` is built once per loaded config. For a profile update it works
out which segments can have changed — those whose conditions or scores read an
attribute that changed (a dependency index over the compiled conditions), the segments
that read *those* (``segments.<key>``), and the time-dependent ones — and evaluates only
them, in the config's ``segment_order``. :func:`membership_changes` turns the old and the
new membership into entered/exited changes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import compress
from typing import Any

from firstmile.conditions.context import Predicate
from firstmile.conditions.timestamps import now_seconds
from firstmile.config.model import OnboardingConfig
from firstmile.scores import Measured, MeasureScore, ScoreDefinition, ScoreResult
from firstmile.segments.attributes import is_time_dependent
from firstmile.storage.base import SegmentChangeKind

_FAMILIES = ("events", "segments", "scores", "computed")

# The evaluation order, decided when the engine is built, as a run of batches: each batch
# is the rule segments (key, condition predicate) then the threshold segments (key, score
# key, the score's measure, threshold min, threshold max) that come next in
# ``segment_order``. Rules come before thresholds there unless a rule reads a threshold
# segment, so the order is usually one batch, and evaluating it two tight loops. A batch
# starts with the scores its rules read (``scores.<key>``) that no earlier step measured:
# they are measured first, so a rule never reads a score before it is computed.
_Rule = tuple[str, Predicate]
_Threshold = tuple[str, str, MeasureScore, float, float | None]
_Measure = tuple[str, MeasureScore]
_Batch = tuple[tuple[_Measure, ...], tuple[_Rule, ...], tuple[_Threshold, ...]]


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


class MeasuredScores(Mapping[str, ScoreResult]):
    """The scores of one evaluation, each :class:`ScoreResult` built when first read.

    Evaluation needs the values alone; building the result objects (and their lazy
    explanations) for every score of every profile would cost about a tenth of a whole
    evaluation, and most are never read. A result is built from the numbers measured
    during the evaluation, so it is what an eager result would have been.
    """

    __slots__ = ("_definitions", "_measured", "_results")

    def __init__(
        self, definitions: Mapping[str, ScoreDefinition], measured: dict[str, Measured]
    ) -> None:
        self._definitions = definitions
        self._measured = measured
        self._results: dict[str, ScoreResult] | None = None

    def __getitem__(self, key: str) -> ScoreResult:
        if self._results is None:
            self._results = {}
        result = self._results.get(key)
        if result is None:
            measured = self._measured[key]  # KeyError: not computed in this evaluation
            result = self._results[key] = self._definitions[key].result(measured)
        return result

    def __iter__(self) -> Iterator[str]:
        return iter(self._measured)

    def __len__(self) -> int:
        return len(self._measured)

    def __repr__(self) -> str:
        return f"MeasuredScores({dict(self)!r})"


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
        self._batches = self._plan(config)
        self._uses_time = any(rule.uses_time for rule in self._rules.values())
        # Every segment out, in evaluation order: each evaluation starts from a copy,
        # which is several times cheaper than dict.fromkeys on the keys.
        self._none_in = dict.fromkeys(config.segment_order, False)

    def _plan(self, config: OnboardingConfig) -> tuple[_Batch, ...]:
        """The batches of the evaluation order (see ``_Batch``)."""
        batches: list[_Batch] = []
        first: list[_Measure] = []
        rules: list[_Rule] = []
        thresholds: list[_Threshold] = []
        measured: set[str] = set()
        for key in config.segment_order:
            segment = self._rules.get(key)
            if segment is not None:
                if thresholds:  # a rule after thresholds starts the next batch
                    batches.append((tuple(first), tuple(rules), tuple(thresholds)))
                    first, rules, thresholds = [], [], []
                for path in sorted(segment.attributes):
                    read = (
                        self._scores.get(path.split(".", 2)[1])
                        if path.startswith("scores.")
                        else None
                    )
                    if read is not None and read.key not in measured:
                        measured.add(read.key)
                        first.append((read.key, read.measure))
                rules.append((key, segment.compiled.predicate))
            else:
                threshold = self._thresholds[key]
                score = self._scores[threshold.score]
                measured.add(score.key)
                thresholds.append((key, score.key, score.measure, threshold.min, threshold.max))
        if first or rules or thresholds:
            batches.append((tuple(first), tuple(rules), tuple(thresholds)))
        return tuple(batches)

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
        segments = self._none_in.copy()
        for key in previous:
            if key in segments:
                segments[key] = True
        attributes["segments"] = segments
        measured: dict[str, Measured] = {}
        score_values: dict[str, float] = attributes.setdefault("scores", {})
        # Every predicate gets the time; those without relative time do not read it.
        now_s = now_seconds(now) if self._uses_time else 0.0
        batches = self._batches if only is None else _only(self._batches, only)
        for first, rules, thresholds in batches:
            for score_key, measure in first:
                if score_key not in measured:
                    read = measured[score_key] = measure(attributes, now)
                    score_values[score_key] = read[0]
            for key, predicate in rules:
                segments[key] = predicate(attributes, now_s)
            for key, score_key, measure, low, high in thresholds:
                score = measured.get(score_key)
                if score is None:
                    score = measured[score_key] = measure(attributes, now)
                    score_values[score_key] = score[0]
                value = score[0]
                segments[key] = low <= value and (high is None or value < high)
        return Evaluation(
            members=frozenset(compress(segments, segments.values())),
            scores=MeasuredScores(self._scores, measured),
        )

    def scores(self, attributes: dict[str, Any], now: datetime) -> dict[str, ScoreResult]:
        """Every score of the config (for profile views and reasons)."""
        return {key: score.compiled(attributes, now) for key, score in self._scores.items()}


def _only(batches: tuple[_Batch, ...], only: Collection[str]) -> list[_Batch]:
    """The batches keeping only the segments in ``only``."""
    return [
        (
            first,  # cheap, and a kept rule may read them
            tuple(rule for rule in rules if rule[0] in only),
            tuple(threshold for threshold in thresholds if threshold[0] in only),
        )
        for first, rules, thresholds in batches
    ]


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
