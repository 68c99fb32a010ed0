"""Experiments, bandits and their metrics as loaded from ``firstmile.yaml`` (frozen values).

Built and checked by :mod:`firstmile.config.experiments_build`; decide assigns from them
(:mod:`firstmile.trials`), ingest feeds their metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from firstmile.bandits import BanditPolicy
from firstmile.conditions import CompiledCondition
from firstmile.config.onboarding import ACTIONS, Rule
from firstmile.experiments import Experiment, Holdout, Metric

#: Variant and arm actions run before every rule: a variant decides its slots.
TRIAL_PRIORITY: Final = 2**62


def slots_of(rules: tuple[tuple[Rule, ...], ...]) -> frozenset[str]:
    """The plan slots any variant (or arm) writes: where an exposure can be seen."""
    return frozenset(ACTIONS[rule.action.kind] for actions in rules for rule in actions)


@dataclass(frozen=True, slots=True)
class ConfiguredExperiment:
    """An experiment of the file: the assignment definition plus what decide needs.

    ``variant_rules[i]`` are the actions of variation ``i`` as always-matching rules
    (``origin="experiment"``); ``condition`` targets who may enter (``None``: everyone);
    ``metrics`` are metric keys, the first non-guardrail one the primary.
    """

    experiment: Experiment
    name: str
    variant_rules: tuple[tuple[Rule, ...], ...]
    metrics: tuple[str, ...]
    condition: CompiledCondition | None = None
    start: datetime | None = None
    end: datetime | None = None
    planned_users: int = 10_000
    planned_looks: int | None = None
    slots: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", slots_of(self.variant_rules))

    @property
    def key(self) -> str:
        return self.experiment.key

    def live(self, now: datetime) -> bool:
        """Running, and inside its start/end dates."""
        return (
            self.experiment.status == "running"
            and (self.start is None or now >= self.start)
            and (self.end is None or now < self.end)
        )


@dataclass(frozen=True, slots=True)
class BanditContext:
    """A context of a contextual bandit: its own posteriors for users matching ``condition``."""

    key: str
    condition: CompiledCondition


@dataclass(frozen=True, slots=True)
class ConfiguredBandit:
    """A bandit of the file: its policy, arm actions, reward metric and contexts."""

    policy: BanditPolicy
    name: str
    arm_rules: tuple[tuple[Rule, ...], ...]
    metric: str
    contexts: tuple[BanditContext, ...] = ()
    condition: CompiledCondition | None = None
    status: str = "running"
    slots: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", slots_of(self.arm_rules))

    @property
    def key(self) -> str:
        return self.policy.key

    def context_of(self, attributes: Mapping[str, object], now_s: float) -> str | None:
        """The first context whose condition matches, or ``None`` (the global posteriors)."""
        for context in self.contexts:
            if context.condition.predicate(attributes, now_s):
                return context.key
        return None


@dataclass(frozen=True, slots=True)
class ExperimentsConfig:
    """The ``metrics``, ``experiments``, ``bandits`` and ``holdout`` sections."""

    metrics: Mapping[str, Metric] = field(default_factory=dict)
    experiments: tuple[ConfiguredExperiment, ...] = ()
    bandits: tuple[ConfiguredBandit, ...] = ()
    holdout: Holdout | None = None

    @property
    def empty(self) -> bool:
        return not (self.experiments or self.bandits)

    def experiment(self, key: str) -> ConfiguredExperiment | None:
        return next((e for e in self.experiments if e.key == key), None)

    def bandit(self, key: str) -> ConfiguredBandit | None:
        return next((b for b in self.bandits if b.key == key), None)

    def metric_events(self) -> frozenset[str]:
        """Every event name a declared metric reads (ingest looks for trials only then)."""
        return frozenset(name for metric in self.metrics.values() for name in metric.events)
