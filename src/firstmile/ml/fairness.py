"""Fairness checks: does a model treat the groups of a protected attribute alike?

Personalisation decides what users see first. If one age bracket, gender or country is
far less often shown the "invite your team" step, or a churn classifier flags one group
far more often, that is worth knowing before it ships. This module measures it; it does
not decide what is fair — a difference can have a legitimate cause — it reports the
numbers and flags the large ones for a human to look at.

**Groups.** ``groups`` holds one label per row (``"18-24"``, ``"DE"``...). A missing value
(``None``, NaN, an empty string) becomes the group ``"unknown"``, which is reported like
any other. Groups with fewer than ``min_group_size`` rows (30 by default) are *reported*
but *excluded* from the differences: a rate over a handful of users is mostly noise, and a
report that flags it teaches people to ignore flags. The report says which groups were
excluded.

**Assignments** (:func:`assignment_rates`): for every assigned label (a persona key, a
content item), the share of each group's rows that got it, and the largest difference
between two included groups — the demographic parity difference of that label.

**Classifiers** (:func:`classifier_fairness`), for binary predictions, with the
definitions used by Fairlearn (``demographic_parity_difference``,
``equal_opportunity_difference``):

* *demographic parity difference*: max - min over groups of the positive (selection)
  rate, P(ŷ = 1 | group);
* *equal opportunity difference*: max - min over groups of the true positive rate,
  P(ŷ = 1 | y = 1, group), among the groups with at least one actual positive.

A difference is flagged when it is over ``threshold`` (0.1 by default, ten percentage
points). A difference needs two included groups; otherwise it is None, with a warning.

Examples
--------
>>> groups = ["a"] * 40 + ["b"] * 40
>>> assigned = ["mobile"] * 30 + ["desktop"] * 10 + ["mobile"] * 20 + ["desktop"] * 20
>>> rates = assignment_rates(groups, assigned)
>>> rates.rate("a", "mobile"), rates.rate("b", "mobile")
(0.75, 0.5)
>>> rates.disparity("mobile").max_difference, rates.flagged
(0.25, ('desktop', 'mobile'))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from firstmile.errors import ModelError

UNKNOWN_GROUP: Final = "unknown"
NO_LABEL: Final = "none"
DEFAULT_MIN_GROUP_SIZE: Final = 30
DEFAULT_THRESHOLD: Final = 0.1

FairnessMetric = Literal["demographic_parity", "equal_opportunity"]


@dataclass(frozen=True, slots=True)
class GroupRates:
    """One group's size and the rate of each label, aligned with the report's ``labels``."""

    group: str
    size: int
    rates: tuple[float, ...]
    included: bool

    def to_json(self, labels: Sequence[str]) -> dict[str, Any]:
        return {
            "group": self.group,
            "size": self.size,
            "included": self.included,
            "rates": dict(zip(labels, self.rates, strict=True)),
        }


@dataclass(frozen=True, slots=True)
class LabelDisparity:
    """The spread of one label's rate across the included groups."""

    label: str
    max_difference: float | None  # None with fewer than two included groups
    highest_group: str | None
    lowest_group: str | None
    flagged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "max_difference": self.max_difference,
            "highest_group": self.highest_group,
            "lowest_group": self.lowest_group,
            "flagged": self.flagged,
        }


@dataclass(frozen=True, slots=True)
class AssignmentRates:
    """How often each group is assigned each label, and the largest gap per label."""

    labels: tuple[str, ...]
    groups: tuple[GroupRates, ...]
    disparities: tuple[LabelDisparity, ...]  # aligned with labels
    min_group_size: int
    threshold: float
    warnings: tuple[str, ...] = ()

    @property
    def flagged(self) -> tuple[str, ...]:
        """Labels whose rate differs by more than ``threshold`` between two groups."""
        return tuple(d.label for d in self.disparities if d.flagged)

    @property
    def excluded_groups(self) -> tuple[str, ...]:
        return tuple(g.group for g in self.groups if not g.included)

    def rate(self, group: str, label: str) -> float:
        """The share of ``group``'s rows assigned ``label`` (KeyError if either is unknown)."""
        index = self._label_index(label)
        for row in self.groups:
            if row.group == group:
                return row.rates[index]
        raise KeyError(group)

    def disparity(self, label: str) -> LabelDisparity:
        return self.disparities[self._label_index(label)]

    def _label_index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise KeyError(label) from None

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "groups": [g.to_json(self.labels) for g in self.groups],
            "disparities": [d.to_json() for d in self.disparities],
            "flagged": list(self.flagged),
            "excluded_groups": list(self.excluded_groups),
            "min_group_size": self.min_group_size,
            "threshold": self.threshold,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """One group's size, actual positives, positive (selection) rate and TPR."""

    group: str
    size: int
    positives: int  # rows with y_true = 1
    positive_rate: float  # share of rows predicted 1
    true_positive_rate: float | None  # None when the group has no actual positive
    included: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "size": self.size,
            "positives": self.positives,
            "positive_rate": self.positive_rate,
            "true_positive_rate": self.true_positive_rate,
            "included": self.included,
        }


@dataclass(frozen=True, slots=True)
class ClassifierFairness:
    """Per-group outcomes of a binary classifier and the two parity differences."""

    groups: tuple[GroupOutcome, ...]
    demographic_parity_difference: float | None
    equal_opportunity_difference: float | None
    min_group_size: int
    threshold: float
    warnings: tuple[str, ...] = ()

    @property
    def flags(self) -> tuple[FairnessMetric, ...]:
        """The metrics over ``threshold``."""
        out: list[FairnessMetric] = []
        if self._over(self.demographic_parity_difference):
            out.append("demographic_parity")
        if self._over(self.equal_opportunity_difference):
            out.append("equal_opportunity")
        return tuple(out)

    @property
    def excluded_groups(self) -> tuple[str, ...]:
        return tuple(g.group for g in self.groups if not g.included)

    def _over(self, value: float | None) -> bool:
        return value is not None and value > self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "groups": [g.to_json() for g in self.groups],
            "demographic_parity_difference": self.demographic_parity_difference,
            "equal_opportunity_difference": self.equal_opportunity_difference,
            "flags": list(self.flags),
            "excluded_groups": list(self.excluded_groups),
            "min_group_size": self.min_group_size,
            "threshold": self.threshold,
            "warnings": list(self.warnings),
        }


def _group_name(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN_GROUP
    text = str(value).strip()
    return text or UNKNOWN_GROUP


def _label_name(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_LABEL
    return str(value)


def _as_list(values: object, what: str) -> list[object]:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ModelError(f"{what} must be a sequence with one value per row.")
    # tolist() turns numpy scalars into Python ones, so str() and == behave as expected.
    tolist = getattr(values, "tolist", None)
    out = tolist() if callable(tolist) else list(values)
    if not isinstance(out, list) or any(isinstance(v, list | tuple) for v in out):
        raise ModelError(f"{what} must be one-dimensional, one value per row.")
    return out


def _check_options(min_group_size: int, threshold: float) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int):
        raise ModelError(f"min_group_size must be an integer, not {min_group_size!r}.")
    if min_group_size < 1:
        raise ModelError(f"min_group_size must be at least 1, not {min_group_size}.")
    if not math.isfinite(threshold) or not 0 <= threshold <= 1:
        raise ModelError(f"threshold must be between 0 and 1, not {threshold!r}.")


def _check_lengths(groups: Sequence[object], *others: tuple[Sequence[object], str]) -> None:
    if not groups:
        raise ModelError("No rows: fairness needs at least one row per group.")
    for values, what in others:
        if len(values) != len(groups):
            raise ModelError(f"{len(groups)} group labels but {len(values)} {what}.")


def _exclusion_warning(sizes: dict[str, int], min_group_size: int) -> list[str]:
    small = sorted(group for group, size in sizes.items() if size < min_group_size)
    if not small:
        return []
    return [
        f"{len(small)} group(s) with fewer than {min_group_size} rows are reported but "
        f"excluded from the differences: {', '.join(small)}."
    ]


def _spread(values: dict[str, float]) -> tuple[float, str, str] | None:
    if len(values) < 2:
        return None
    # Ties resolve to the first group in sorted order, so reports are deterministic.
    highest = max(sorted(values), key=lambda group: values[group])
    lowest = min(sorted(values), key=lambda group: values[group])
    return values[highest] - values[lowest], highest, lowest


def assignment_rates(
    groups: Iterable[object],
    assigned_labels: Iterable[object],
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    threshold: float = DEFAULT_THRESHOLD,
) -> AssignmentRates:
    """The rate at which each group is assigned each label, and the max gap per label.

    A missing group becomes ``"unknown"``; a missing label (None) becomes ``"none"``.
    """
    _check_options(min_group_size, threshold)
    group_list = [_group_name(g) for g in _as_list(groups, "groups")]
    label_list = [_label_name(x) for x in _as_list(assigned_labels, "assigned_labels")]
    _check_lengths(group_list, (label_list, "assigned labels"))

    labels = tuple(sorted(set(label_list)))
    counts: dict[str, dict[str, int]] = {}
    for group, label in zip(group_list, label_list, strict=True):
        per_label = counts.setdefault(group, {})
        per_label[label] = per_label.get(label, 0) + 1
    sizes = {group: sum(per_label.values()) for group, per_label in counts.items()}

    rows = tuple(
        GroupRates(
            group=group,
            size=sizes[group],
            rates=tuple(counts[group].get(label, 0) / sizes[group] for label in labels),
            included=sizes[group] >= min_group_size,
        )
        for group in sorted(counts)
    )
    disparities = []
    for index, label in enumerate(labels):
        spread = _spread({row.group: row.rates[index] for row in rows if row.included})
        if spread is None:
            disparities.append(LabelDisparity(label, None, None, None, flagged=False))
        else:
            difference, highest, lowest = spread
            disparities.append(
                LabelDisparity(label, difference, highest, lowest, difference > threshold)
            )
    warnings = _exclusion_warning(sizes, min_group_size)
    if sum(row.included for row in rows) < 2:
        warnings.append(
            f"Fewer than two groups have {min_group_size} rows or more: no difference "
            "can be computed."
        )
    return AssignmentRates(
        labels=labels,
        groups=rows,
        disparities=tuple(disparities),
        min_group_size=min_group_size,
        threshold=threshold,
        warnings=tuple(warnings),
    )


def _binary(values: list[object], what: str) -> list[int]:
    out = []
    for value in values:
        # bool is an int, and numpy's tolist() already gave Python numbers.
        if isinstance(value, int | float) and value in (0, 1):
            out.append(int(value))
        else:
            raise ModelError(f"{what} must hold only 0 and 1 (or booleans); found {value!r}.")
    return out


def classifier_fairness(
    groups: Iterable[object],
    y_true: Iterable[object],
    y_pred_binary: Iterable[object],
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    threshold: float = DEFAULT_THRESHOLD,
) -> ClassifierFairness:
    """Per-group positive rate and TPR of binary predictions, and their spreads.

    >>> groups = ["a"] * 50 + ["b"] * 50
    >>> y_true = ([1] * 20 + [0] * 30) * 2
    >>> y_pred = [1] * 18 + [0] * 2 + [1] * 5 + [0] * 25 + [1] * 10 + [0] * 10 + [0] * 30
    >>> report = classifier_fairness(groups, y_true, y_pred)
    >>> [(g.group, g.positive_rate, g.true_positive_rate) for g in report.groups]
    [('a', 0.46, 0.9), ('b', 0.2, 0.5)]
    >>> round(report.demographic_parity_difference, 2), report.equal_opportunity_difference
    (0.26, 0.4)
    >>> report.flags
    ('demographic_parity', 'equal_opportunity')
    """
    _check_options(min_group_size, threshold)
    group_list = [_group_name(g) for g in _as_list(groups, "groups")]
    truth = _binary(_as_list(y_true, "y_true"), "y_true")
    predicted = _binary(_as_list(y_pred_binary, "y_pred_binary"), "y_pred_binary")
    _check_lengths(group_list, (list(truth), "y_true values"), (list(predicted), "predictions"))

    # Per group: rows, predicted positives, actual positives, true positives.
    tallies: dict[str, list[int]] = {}
    for group, actual, guess in zip(group_list, truth, predicted, strict=True):
        tally = tallies.setdefault(group, [0, 0, 0, 0])
        tally[0] += 1
        tally[1] += guess
        tally[2] += actual
        tally[3] += actual & guess
    outcomes = tuple(
        GroupOutcome(
            group=group,
            size=size,
            positives=positives,
            positive_rate=selected / size,
            true_positive_rate=hits / positives if positives else None,
            included=size >= min_group_size,
        )
        for group, (size, selected, positives, hits) in sorted(tallies.items())
    )
    included = [o for o in outcomes if o.included]
    parity = _spread({o.group: o.positive_rate for o in included})
    opportunity = _spread(
        {o.group: o.true_positive_rate for o in included if o.true_positive_rate is not None}
    )
    warnings = _exclusion_warning({o.group: o.size for o in outcomes}, min_group_size)
    if parity is None:
        warnings.append(
            f"Fewer than two groups have {min_group_size} rows or more: no difference "
            "can be computed."
        )
    elif opportunity is None:
        warnings.append(
            "Fewer than two included groups have an actual positive: the equal "
            "opportunity difference cannot be computed."
        )
    return ClassifierFairness(
        groups=outcomes,
        demographic_parity_difference=None if parity is None else parity[0],
        equal_opportunity_difference=None if opportunity is None else opportunity[0],
        min_group_size=min_group_size,
        threshold=threshold,
        warnings=tuple(warnings),
    )
