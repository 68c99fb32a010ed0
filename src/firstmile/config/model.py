"""The loaded onboarding config: frozen values, conditions and scores already compiled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from firstmile.conditions import CompiledCondition
from firstmile.config.experiments import ExperimentsConfig
from firstmile.config.models import ModelsConfig
from firstmile.config.onboarding import OnboardingPlanConfig
from firstmile.config.problems import ConfigProblem
from firstmile.config.rule_check import RuleFinding
from firstmile.errors import NotFound
from firstmile.scores import ScoreDefinition

SCHEMA_VERSION: Final = 1
CONFIG_FILE_NAME: Final = "firstmile.yaml"
SEGMENTS_ATTRIBUTE: Final = "segments"  # conditions read membership as segments.<key>


@dataclass(frozen=True, slots=True)
class SegmentDefinition:
    """A rule segment: users whose attributes match ``condition`` are members."""

    key: str
    name: str
    description: str
    condition: Mapping[str, Any]  # as written (JSON-shaped); do not mutate
    compiled: CompiledCondition = field(repr=False, compare=False)
    references: frozenset[str] = frozenset()  # segment keys read as segments.<key>

    @property
    def attributes(self) -> frozenset[str]:
        """Attribute paths the condition reads (for the re-evaluation dependency index)."""
        return self.compiled.attributes

    @property
    def uses_time(self) -> bool:
        """Whether membership can change with time alone (relative-time operators)."""
        return self.compiled.uses_time

    def matches(self, attributes: Mapping[str, Any], now: datetime | None = None) -> bool:
        return self.compiled(attributes, now=now)


@dataclass(frozen=True, slots=True)
class ThresholdSegment:
    """A segment defined by a score: members have ``min <= score < max``."""

    key: str
    score: str
    min: float
    max: float | None = None


@dataclass(frozen=True, slots=True)
class OnboardingConfig:
    """One valid version of ``firstmile.yaml``.

    ``version_id`` is the first 12 hex digits of the SHA-256 of the normalized content
    (comments, formatting, key order and defaults written out or not make no difference);
    every decision records it. ``segment_order`` lists every segment key (rule and
    threshold segments) so that each comes after the segments it reads. ``traits`` maps
    each declared trait to its type (``None``: the file has no ``traits:`` section, so
    trait names are not checked); ``warnings`` are what ``firstmile config check`` points
    out without refusing the file. ``rule_findings`` are the shadowed and never-matched
    rules found on sample users when it was loaded (:mod:`firstmile.config.rule_check`; a
    conflict refuses the file); each is also in ``warnings``.
    """

    version: int
    saved_groups: Mapping[str, tuple[str, ...]]
    segments: tuple[SegmentDefinition, ...]
    scores: tuple[ScoreDefinition, ...]
    threshold_segments: tuple[ThresholdSegment, ...]
    segment_order: tuple[str, ...]
    version_id: str
    loaded_at: datetime
    source_path: Path | None = None
    traits: Mapping[str, str] | None = None
    warnings: tuple[ConfigProblem, ...] = field(default=(), compare=False)
    onboarding: OnboardingPlanConfig = field(default=OnboardingPlanConfig(), compare=False)
    trials: ExperimentsConfig = field(default=ExperimentsConfig(), compare=False)
    models: ModelsConfig = field(default=ModelsConfig(), compare=False)
    source_text: str = field(default="", repr=False, compare=False)  # the file as read
    rule_findings: tuple[RuleFinding, ...] = field(default=(), repr=False, compare=False)

    @property
    def segment_keys(self) -> tuple[str, ...]:
        """Rule segments then threshold segments, in the order the file declares them."""
        return (
            *(s.key for s in self.segments),
            *(t.key for t in self.threshold_segments),
        )

    def segment(self, key: str) -> SegmentDefinition:
        for segment in self.segments:
            if segment.key == key:
                return segment
        raise NotFound(f"No rule segment {key!r} in config {self.version_id}.", field="key")

    def score(self, key: str) -> ScoreDefinition:
        for score in self.scores:
            if score.key == key:
                return score
        raise NotFound(f"No score {key!r} in config {self.version_id}.", field="key")

    def summary(self) -> dict[str, Any]:
        """Counts and identity, as ``firstmile config check`` prints them."""
        return {
            "file": None if self.source_path is None else str(self.source_path),
            "version": self.version,
            "version_id": self.version_id,
            "loaded_at": self.loaded_at.isoformat(),
            "saved_groups": len(self.saved_groups),
            "segments": len(self.segments),
            "scores": len(self.scores),
            "threshold_segments": len(self.threshold_segments),
            "traits": None if self.traits is None else len(self.traits),
            "catalog": len(self.onboarding.catalog),
            "flows": len(self.onboarding.flows),
            "checklists": len(self.onboarding.checklists),
            "rules": len(self.onboarding.rules),
            "warnings": [w.to_json() for w in self.warnings],
            "rule_findings": [f.to_json() for f in self.rule_findings],
        }
