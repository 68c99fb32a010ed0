"""The shape of the ``metrics``, ``experiments``, ``bandits`` and ``holdout`` sections.

Strict pydantic models; cross-references (metric keys, content in actions) and the rules
of :class:`~firstmile.experiments.Experiment`, :class:`~firstmile.experiments.Metric`
and :class:`~firstmile.bandits.BanditPolicy` are checked in
:mod:`firstmile.config.experiments_build`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, FiniteFloat

from firstmile.config.schema import Duration, Slug, Text, _Strict

Actions = dict[str, Any] | list[dict[str, Any]]


class EventValueIn(_Strict):
    event: Text
    property: Text | None = None


class MetricIn(_Strict):
    key: Slug
    name: str = ""
    kind: Literal["conversion", "count", "sum", "ratio"]
    event: Text | None = None
    property: Text | None = None
    numerator: EventValueIn | None = None
    denominator: EventValueIn | None = None
    window: Duration | None = "7d"
    guardrail: bool = False
    direction: Literal["increase", "decrease"] = "increase"
    cuped: bool = False
    cuped_lookback: Duration = "14d"
    mde: Annotated[FiniteFloat, Field(gt=0)] = 0.05
    mde_kind: Literal["relative", "absolute"] = "relative"


class VariantIn(_Strict):
    key: Slug
    weight: FiniteFloat | None = None
    then: Actions = Field(default_factory=dict)  # {}: the default plan (a control)


class NamespaceIn(_Strict):
    name: Slug
    range: Annotated[list[FiniteFloat], Field(min_length=2, max_length=2)]


class ExperimentIn(_Strict):
    key: Slug
    name: str = ""
    status: Literal["draft", "running", "stopped"] = "running"
    variants: list[VariantIn]
    coverage: Annotated[FiniteFloat, Field(ge=0, le=1)] = 1.0
    when: dict[str, Any] = Field(default_factory=dict)  # {}: every user
    # user_id (falling back to the anonymous id), anonymous_id, or an attribute such as a
    # trait (company_id: everyone in a company sees the same variant).
    hash_attribute: Text = "user_id"
    seed: Text | None = None
    hash_version: Literal[1, 2] = 2
    namespace: NamespaceIn | None = None
    metrics: list[Slug] = Field(default_factory=list)
    # The total of users the experiment is planned for: tunes the sequential test.
    planned_users: Annotated[int, Field(ge=10)] = 10_000
    # How many times the results will be read (e.g. 14: daily for two weeks): switches the
    # sequential reading to a group-sequential design that spends alpha over those looks.
    planned_looks: Annotated[int, Field(ge=1, le=200)] | None = None
    forced: dict[str, Slug] = Field(default_factory=dict)  # user or anonymous id -> variant
    start: Text | None = None
    end: Text | None = None


class ArmIn(_Strict):
    key: Slug
    then: Actions = Field(default_factory=dict)


class ContextIn(_Strict):
    key: Slug
    when: dict[str, Any]


class BanditIn(_Strict):
    key: Slug
    name: str = ""
    status: Literal["draft", "running", "stopped"] = "running"
    arms: list[ArmIn]
    metric: Slug
    when: dict[str, Any] = Field(default_factory=dict)
    contexts: list[ContextIn] = Field(default_factory=list)
    min_weight: Annotated[FiniteFloat, Field(ge=0, le=1)] = 0.05
    min_samples: Annotated[int, Field(ge=0)] = 100
    cadence: Duration = "1h"
    seed: Text | None = None
    draws: Annotated[int, Field(ge=100, le=1_000_000)] = 10_000


class HoldoutIn(_Strict):
    share: Annotated[FiniteFloat, Field(ge=0, le=1)]
    seed: Text = "firstmile-global-holdout"
