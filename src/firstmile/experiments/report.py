# ruff: noqa: RUF002 - the docstrings write formulas in math notation
"""Experiment reports from sufficient statistics: effects, verdicts and a recommendation.

:func:`build_report` reads one :class:`~firstmile.stats.Moments` per metric × variant (what
the store keeps up to date on ingest) and the users exposed per variant, so it costs
O(variants × metrics) whatever the traffic: no event is read. It is pure and never raises
on data: an experiment with no users, a variant with none, too few users or a metric that
does not vary give ``None`` numbers and plain sentences in ``warnings``. Only invalid
*arguments* (fewer than two variants, duplicate metric keys, an unknown correction, ...)
raise ValueError.

``Report.to_json()`` is the body of ``GET /v1/experiments/{key}/results`` and of the CLI's
``--json``; :func:`firstmile.experiments.render_text` is the CLI's table.

>>> from firstmile.experiments.metrics import Metric
>>> from firstmile.stats import Moments
>>> signup = Metric("signup", "conversion", event="Signed Up")
>>> stats = {"signup": {"control": Moments.from_counts(5000, 500),
...                     "tour": Moments.from_counts(5000, 610)}}
>>> report = build_report("welcome-tour", ["control", "tour"], [signup], stats)
>>> report.recommendation.text
'ship tour'
>>> build_report("welcome-tour", ["control", "tour"], [signup], {}).recommendation.text
'no data yet'
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from firstmile.experiments.comparison import Comparison, Planning, compare
from firstmile.experiments.metrics import Direction, Metric, MetricKind
from firstmile.experiments.recommend import Plan, Recommendation, recommend
from firstmile.stats import Interval, Moments, benjamini_hochberg, holm, sample_ratio_mismatch

Correction = Literal["holm", "bh"]
DEFAULT_TUNING_N: Final = 10_000
"""The sequential tests' tuning size when the experiment does not plan one."""
DEFAULT_MIN_USERS: Final = 100
"""Users every variant needs before the recommendation acts on a result."""
_EMPTY: Final = Moments()


@dataclass(frozen=True, slots=True)
class VariantSummary:
    """A variant's users, and its share of all users against the configured one."""

    key: str
    users: int
    expected_share: float
    observed_share: float | None


@dataclass(frozen=True, slots=True)
class SrmSummary:
    """The sample ratio mismatch check of users per variant against the configured split."""

    p_value: float | None
    statistic: float | None
    threshold: float
    mismatch: bool | None
    expected: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One variant's users and observed value (rate, mean or ratio) of a metric."""

    variant: str
    users: int
    value: float | None


@dataclass(frozen=True, slots=True)
class MetricReport:
    """One metric: every variant's value and each treatment's :class:`Comparison`."""

    key: str
    kind: MetricKind
    direction: Direction
    guardrail: bool
    primary: bool
    values: tuple[MetricValue, ...]
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """An experiment's results (see the module doc). Numbers are finite floats or None."""

    experiment: str
    alpha: float
    sequential_alpha: float
    correction: Correction | None
    tuning_n: int
    looks: int | None
    users: int
    variants: tuple[VariantSummary, ...]
    srm: SrmSummary
    metrics: tuple[MetricReport, ...]
    recommendation: Recommendation
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A plain dict of str, int, float (finite), bool, None, lists and dicts."""
        body = _plain(self)
        assert isinstance(body, dict)
        return body


def build_report(
    experiment_key: str,
    variants: Sequence[str],
    metrics: Sequence[Metric],
    stats: Mapping[str, Mapping[str, Moments]],
    *,
    exposures: Mapping[str, int] | None = None,
    expected_weights: Sequence[float] | None = None,
    alpha: float = 0.05,
    tuning_n: int = DEFAULT_TUNING_N,
    correction: Correction | None = "holm",
    power: float = 0.8,
    srm_threshold: float = 0.001,
    min_users: int = DEFAULT_MIN_USERS,
    looks: int | None = None,
) -> Report:
    """The report of an experiment from its sufficient statistics.

    ``variants`` are the variation keys, control first; ``stats[metric_key][variant]`` the
    moments of that metric in that variant (missing: no users yet). ``exposures`` are the
    users per variant (default: the largest ``n`` of any metric in the variant), checked
    against ``expected_weights`` (default: equal). ``tuning_n`` is the planned total of
    users for the sequential tests, fixed before the experiment starts. ``correction``
    adjusts the fixed-horizon p-values across all comparisons (``"holm"``: family-wise
    error, ``"bh"``: false discovery rate, None: none). ``looks``, when the number of looks
    is planned, reads every comparison with the group-sequential test of that many equally
    spaced looks up to ``tuning_n`` users (its false-positive rate over the planned looks
    is alpha); without it, with the always-valid sequence (valid for any peeking, and
    conservative).
    """
    variants = _check_arguments(experiment_key, variants, metrics, alpha, correction, min_users)
    _check_plan(tuning_n, power, alpha)
    warnings: list[str] = []
    for key, by_variant in stats.items():
        if key not in {m.key for m in metrics}:
            warnings.append(f"statistics for unknown metric {key!r} were ignored")
            continue
        for name in by_variant:
            if name not in variants:
                warnings.append(f"statistics of {key!r} for unknown variant {name!r} were ignored")
    users = _users(variants, metrics, stats, exposures)
    total = sum(users)
    srm = sample_ratio_mismatch(users, expected_weights, threshold=srm_threshold)
    shares = _shares(len(variants), expected_weights)
    treatments = len(variants) - 1
    plan = Plan(alpha / treatments, tuning_n, power, min_users, looks)
    _data_warnings(variants, users, metrics, min_users, warnings)
    warnings.extend(f"SRM: {text}" for text in srm.warnings if total)

    analysed: list[tuple[Metric, list[tuple[Comparison, Planning]]]] = []
    for metric in metrics:
        by_variant = stats.get(metric.key, {})
        control = by_variant.get(variants[0], _EMPTY)
        pairs = [
            compare(
                metric,
                control,
                by_variant.get(name, _EMPTY),
                name,
                alpha=alpha,
                sequential_alpha=plan.sequential_alpha,
                tuning_n=tuning_n,
                looks=looks,
            )
            for name in variants[1:]
        ]
        analysed.append((metric, pairs))
    analysed = _corrected(analysed, correction, alpha)
    if total:
        for metric, pairs in analysed:
            by_variant = stats.get(metric.key, {})
            if all(by_variant.get(name, _EMPTY).n == 0 for name in variants):
                warnings.append(f"metric {metric.key!r} has no statistics yet")
                continue
            for comparison, _ in pairs:
                warnings.extend(
                    f"{metric.key} / {comparison.variant}: {text}"
                    for text in comparison.warnings
                    if "empty variant" not in text  # said once per variant above
                )
    recommendation = recommend(users, shares, srm.mismatch, analysed, plan, warnings)
    primary = next((m.key for m in metrics if not m.guardrail), None)
    return Report(
        experiment=experiment_key,
        alpha=alpha,
        sequential_alpha=plan.sequential_alpha,
        correction=correction,
        tuning_n=tuning_n,
        looks=looks,
        users=total,
        variants=tuple(
            VariantSummary(name, count, share, count / total if total else None)
            for name, count, share in zip(variants, users, shares, strict=True)
        ),
        srm=SrmSummary(srm.p_value, srm.statistic, srm.threshold, srm.mismatch, srm.expected),
        metrics=tuple(
            MetricReport(
                key=metric.key,
                kind=metric.kind,
                direction=metric.direction,
                guardrail=metric.guardrail,
                primary=metric.key == primary,
                values=tuple(
                    _value(metric, name, stats.get(metric.key, {}).get(name, _EMPTY))
                    for name in variants
                ),
                comparisons=tuple(c for c, _ in pairs),
            )
            for metric, pairs in analysed
        ),
        recommendation=recommendation,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _check_arguments(
    experiment_key: str,
    variants: Sequence[str],
    metrics: Sequence[Metric],
    alpha: float,
    correction: object,
    min_users: int,
) -> tuple[str, ...]:
    if not isinstance(experiment_key, str) or not experiment_key:
        raise ValueError(f"experiment_key must be a non-empty string, got {experiment_key!r}")
    names = tuple(variants)
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(
            f"a report needs two or more distinct variants, control first; got {names}"
        )
    keys = [metric.key for metric in metrics]
    if len(set(keys)) != len(keys):
        raise ValueError(f"metric keys must be unique, got {keys}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    if correction not in ("holm", "bh", None):
        raise ValueError(f"correction must be 'holm', 'bh' or None, got {correction!r}")
    if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
        raise ValueError(f"min_users must be a positive integer, got {min_users!r}")
    return names


def _check_plan(tuning_n: int, power: float, alpha: float) -> None:
    if isinstance(tuning_n, bool) or not isinstance(tuning_n, int) or tuning_n < 1:
        raise ValueError(f"tuning_n must be a positive integer (planned users), got {tuning_n!r}")
    if isinstance(power, bool) or not isinstance(power, int | float) or not alpha < power < 1:
        raise ValueError(f"power must be between alpha ({alpha}) and 1, got {power!r}")


def _users(
    variants: Sequence[str],
    metrics: Sequence[Metric],
    stats: Mapping[str, Mapping[str, Moments]],
    exposures: Mapping[str, int] | None,
) -> list[int]:
    if exposures is not None:
        return [int(exposures.get(name, 0)) for name in variants]
    return [
        max((stats.get(m.key, {}).get(name, _EMPTY).n for m in metrics), default=0)
        for name in variants
    ]


def _shares(count: int, weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0 / count] * count
    total = math.fsum(weights)
    return [float(w) / total for w in weights]


def _data_warnings(
    variants: Sequence[str],
    users: Sequence[int],
    metrics: Sequence[Metric],
    min_users: int,
    warnings: list[str],
) -> None:
    if not metrics:
        warnings.append("no metrics are defined: add one to measure the experiment")
    elif all(metric.guardrail for metric in metrics):
        warnings.append("every metric is a guardrail: there is no primary metric to decide on")
    if sum(users) == 0:
        warnings.append("no users have been exposed to this experiment yet")
        return
    for name, count in zip(variants, users, strict=True):
        if count == 0:
            warnings.append(f"variant {name!r} has no users yet")
        elif count < min_users:
            warnings.append(
                f"variant {name!r} has only {count} users: results are unreliable below "
                f"{min_users} per variant"
            )


def _corrected(
    analysed: list[tuple[Metric, list[tuple[Comparison, Planning]]]],
    correction: Correction | None,
    alpha: float,
) -> list[tuple[Metric, list[tuple[Comparison, Planning]]]]:
    """The comparisons with p-values adjusted across all of them (metric-major order)."""
    flat = [comparison for _, pairs in analysed for comparison, _ in pairs]
    p_values = [comparison.p_value for comparison in flat]
    if correction is None or not flat:
        adjusted: Sequence[float | None] = p_values
        reject: Sequence[bool] = [p is not None and p < alpha for p in p_values]
    else:
        method = holm if correction == "holm" else benjamini_hochberg
        result = method(p_values, alpha=alpha)
        adjusted, reject = result.adjusted, result.reject
    updated = iter(
        dataclasses.replace(c, adjusted_p_value=a, significant=None if a is None else r)
        for c, a, r in zip(flat, adjusted, reject, strict=True)
    )
    return [(metric, [(next(updated), p) for _, p in pairs]) for metric, pairs in analysed]


def _value(metric: Metric, variant: str, arm: Moments) -> MetricValue:
    if metric.kind == "ratio":
        value = arm.sum / arm.sum_x if arm.n and arm.sum_x else None
    else:
        value = arm.mean
    return MetricValue(variant, arm.n, value)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def _plain(value: object) -> object:
    """JSON-able data: dataclasses as dicts, tuples as lists, non-finite floats as None."""
    if isinstance(value, Interval):
        return {"lower": _plain(value.lower), "upper": _plain(value.upper)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value
