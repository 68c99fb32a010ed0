# ruff: noqa: RUF002 - the docstrings write formulas in math notation
"""A small tree over user attributes whose leaves are the contexts of a contextual bandit.

:func:`fit_context_tree` learns, from per-user rows (attributes, arm, reward), where users
prefer different arms: a greedy tree of depth at most 2 over a few declared attributes.
Each leaf is expressed as a condition in the condition language, so it can be stored in
``firstmile.yaml`` and evaluated at decide time like any segment.

A split sends rows one way or the other by one attribute:

* categorical: ``value == v`` against the rest — ``{"device.type": "mobile"}`` and
  ``{"device.type": {"$ne": "mobile"}}`` (a non-string ``v`` is written ``{"$eq": v}``;
  ``None`` matches a missing attribute, as in the condition language);
* numeric: ``value < t`` against ``value >= t`` — ``{"$lt": t}`` and ``{"$gte": t}``, with
  ``t`` one of the values seen. As the condition language compares them, a missing or null
  value counts as 0, booleans as 0/1 and numeric strings as their number; other values
  (text, lists) match neither side, so those users match no leaf (and get the global
  weights at decide time).

A split is taken only when (1) every arm has at least ``min_leaf`` rows on each side, (2)
the best arm (highest mean reward) differs between the sides, and (3) on each side, its
best arm beats the other side's best arm by at least ``min_z`` standard errors (a Welch
z-statistic; 1.96 is a two-sided 5% test per side, with no correction for the number of
candidate splits tried, so keep the attribute list short). Among the splits that qualify
the tree takes the one that gains most: Σ over the sides of n_side × (best mean on that
side − mean of the overall best arm on that side), the reward per user gained by serving
each side its own best arm instead of one arm to all. Each side is then split again the
same way, down to ``max_depth``. Greedy trees miss pure interactions (an XOR of two
attributes with no effect of either alone); that is the price of simplicity.

The arm means are compared as if arms were assigned independently of the attributes:
fit on decisions from a randomized period (equal weights, or an experiment), not on the
output of a contextual bandit, whose arm choice depends on the context.

>>> rows = [TreeRow({"device": {"type": d}}, arm, float((d == "mobile") == (arm == "b")))
...         for d in ("mobile", "desktop") for arm in ("a", "b") for _ in range(50)]
>>> tree = fit_context_tree(rows, [TreeAttribute("device.type")], ("a", "b"), min_leaf=20)
>>> [(leaf.condition, leaf.best_arm) for leaf in tree.leaves]
[({'device.type': 'mobile'}, 'b'), ({'device.type': {'$ne': 'mobile'}}, 'a')]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from firstmile.bandits._attributes import Column, TreeAttribute, build_column, read
from firstmile.bandits._common import check_arms, check_int, check_number, json_value
from firstmile.bandits.contextual import Context

_MAX_SAFE_INTEGER: Final = 2**53
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
# (column, rows going left, rows going right, left test, right test)
Split = tuple[Column, BoolArray, BoolArray, Any, Any]


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One user: their attributes (as conditions read them), the arm they got, the reward."""

    attributes: Mapping[str, Any] = field(hash=False)
    arm: str
    reward: float


@dataclass(frozen=True, slots=True)
class LeafArm:
    """One arm's rows and mean reward in a leaf (``mean`` is None without rows)."""

    arm: str
    n: int
    mean: float | None


@dataclass(frozen=True, slots=True)
class Leaf:
    """A leaf: its context key and condition, its rows, and its best arm so far."""

    key: str
    condition: Mapping[str, Any] = field(hash=False)
    n: int
    best_arm: str | None
    arms: tuple[LeafArm, ...]

    def context(self) -> Context:
        return Context(self.key, self.condition)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "condition": json_value(self.condition),
            "n": self.n,
            "best_arm": self.best_arm,
            "arms": {item.arm: {"n": item.n, "mean": item.mean} for item in self.arms},
        }


@dataclass(frozen=True, slots=True)
class ContextTree:
    """The fitted leaves (disjoint conditions, left branch first) and notes on the data."""

    leaves: tuple[Leaf, ...]
    n: int
    warnings: tuple[str, ...] = ()

    def contexts(self) -> tuple[Context, ...]:
        """The leaves as contexts for :func:`~firstmile.bandits.contextual.select_context`."""
        return tuple(leaf.context() for leaf in self.leaves)

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "leaves": [leaf.to_json() for leaf in self.leaves],
            "warnings": list(self.warnings),
        }


def fit_context_tree(
    rows: Iterable[TreeRow],
    attributes: Sequence[TreeAttribute],
    arms: Sequence[str],
    *,
    max_depth: int = 2,
    min_leaf: int = 100,
    min_z: float = 1.96,
    max_thresholds: int = 16,
) -> ContextTree:
    """Fit the tree (see the module doc). ``min_leaf`` is the rows *of each arm* a side needs.

    ``max_thresholds`` caps the numeric thresholds tried per attribute and node (quantiles
    of the values). Raises ValueError for a row with an unknown arm or a non-finite reward,
    duplicate attribute paths, ``max_depth`` outside 0..2 or ``min_leaf`` below 2.
    """
    arm_keys = check_arms(arms, "fit_context_tree")
    depth = check_int(max_depth, "max_depth", 0)
    if depth > 2:
        raise ValueError(f"max_depth must be 0, 1 or 2 (a small tree), got {depth}")
    spec = _Spec(
        min_leaf=check_int(min_leaf, "min_leaf", 2),
        min_z=check_number(min_z, "min_z"),
        max_thresholds=check_int(max_thresholds, "max_thresholds", 1),
    )
    declared = tuple(attributes)
    for attribute in declared:
        if not isinstance(attribute, TreeAttribute):
            raise ValueError(f"attributes must be TreeAttribute values, got {attribute!r}")
    paths = [attribute.path for attribute in declared]
    if len(set(paths)) != len(paths):
        raise ValueError(f"attribute paths must be unique, got {paths}")
    data = _Data.build(list(rows), declared, arm_keys)
    builder = _Builder(data, spec)
    builder.grow(np.arange(data.n), depth, [])
    warnings = list(builder.warnings)
    if data.n == 0:
        warnings.append("no rows: the tree is a single leaf matching everyone")
    return ContextTree(tuple(builder.leaves), data.n, tuple(dict.fromkeys(warnings)))


@dataclass(frozen=True, slots=True)
class _Spec:
    min_leaf: int
    min_z: float
    max_thresholds: int


@dataclass(frozen=True, slots=True)
class _Data:
    arms: tuple[str, ...]
    arm: IntArray
    reward: FloatArray
    columns: tuple[Column, ...]

    @property
    def n(self) -> int:
        return int(self.arm.shape[0])

    @classmethod
    def build(
        cls, rows: list[TreeRow], attributes: tuple[TreeAttribute, ...], arms: tuple[str, ...]
    ) -> _Data:
        index = {arm: i for i, arm in enumerate(arms)}
        arm_codes, rewards = [], []
        for number, row in enumerate(rows):
            if not isinstance(row, TreeRow):
                raise ValueError(f"row {number} must be a TreeRow, got {type(row).__name__}")
            if row.arm not in index:
                raise ValueError(f"row {number} has arm {row.arm!r}, not one of {list(arms)}")
            if not isinstance(row.attributes, Mapping):
                raise ValueError(f"row {number}: attributes must be a dict")
            arm_codes.append(index[row.arm])
            rewards.append(check_number(row.reward, f"row {number}: the reward"))
        columns = []
        for attribute in attributes:
            values = [read(row.attributes, attribute.path) for row in rows]
            columns.append(build_column(attribute, values))
        return cls(
            arms,
            np.array(arm_codes, dtype=np.int64),
            np.array(rewards, dtype=np.float64),
            tuple(columns),
        )


@dataclass(frozen=True, slots=True)
class _Summary:
    """Per-arm counts, means and variances of some rows."""

    counts: IntArray
    means: FloatArray
    variances: FloatArray

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def best(self) -> int:
        return int(np.argmax(self.means))


class _Builder:
    def __init__(self, data: _Data, spec: _Spec) -> None:
        self.data, self.spec = data, spec
        self.leaves: list[Leaf] = []
        self.warnings: list[str] = []

    def summary(self, rows: IntArray) -> _Summary:
        k = len(self.data.arms)
        arm, reward = self.data.arm[rows], self.data.reward[rows]
        counts = np.bincount(arm, minlength=k)
        # Astronomically large rewards overflow to inf or NaN here; such a side then fails
        # the z-test (NaN compares false) and its leaf reports no mean (see leaf()).
        with np.errstate(all="ignore"):
            sums = np.bincount(arm, weights=reward, minlength=k)
            squares = np.bincount(arm, weights=reward * reward, minlength=k)
            safe = np.maximum(counts, 1)
            means = np.where(counts > 0, sums / safe, -np.inf)
            centered = np.maximum(squares - sums * sums / safe, 0.0)
            variances = np.where(counts > 1, centered / np.maximum(counts - 1, 1), 0.0)
        return _Summary(counts.astype(np.int64), means, variances)

    def grow(self, rows: IntArray, depth: int, path: list[tuple[str, Any]]) -> None:
        split = self.best_split(rows) if depth > 0 else None
        if split is None:
            self.leaves.append(self.leaf(rows, path))
            return
        column, left, right, left_test, right_test = split
        dropped = rows.shape[0] - int(left.sum()) - int(right.sum())
        if dropped:
            self.warnings.append(
                f"{dropped} rows have a value of {column.attribute.path!r} that cannot be "
                "compared as a number: they match no leaf"
            )
        name = column.attribute.path
        self.grow(rows[left], depth - 1, [*path, (name, left_test)])
        self.grow(rows[right], depth - 1, [*path, (name, right_test)])

    def leaf(self, rows: IntArray, path: list[tuple[str, Any]]) -> Leaf:
        summary = self.summary(rows)
        arms = tuple(
            LeafArm(arm, int(n), float(mean) if n and math.isfinite(mean) else None)
            for arm, n, mean in zip(self.data.arms, summary.counts, summary.means, strict=True)
        )
        best = self.data.arms[summary.best()] if summary.total else None
        key = f"leaf-{len(self.leaves) + 1}"
        return Leaf(key, _condition(path), int(rows.shape[0]), best, arms)

    def best_split(self, rows: IntArray) -> Split | None:
        found: Split | None = None
        best_gain = 0.0
        for column, left, right, left_test, right_test in self.candidates(rows):
            gain = self.gain(rows[left], rows[right])
            if gain is not None and gain > best_gain:
                best_gain = gain
                found = (column, left, right, left_test, right_test)
        return found

    def candidates(self, rows: IntArray) -> Iterable[Split]:
        for column in self.data.columns:
            if column.attribute.kind == "categorical":
                codes = column.codes[rows]
                for code in np.unique(codes[codes >= 0]):
                    left = codes == code
                    value = column.categories[int(code)]
                    literal = value if value is None or isinstance(value, str) else {"$eq": value}
                    yield column, left, ~left, literal, {"$ne": value}
            else:
                values = column.numbers[rows]
                finite = values[~np.isnan(values)]
                if finite.shape[0] == 0:
                    continue
                lowest = finite.min()
                count = self.spec.max_thresholds
                quantiles = np.arange(1, count + 1) / (count + 1)
                thresholds = np.unique(np.quantile(finite, quantiles, method="inverted_cdf"))
                for threshold in thresholds[thresholds > lowest]:
                    bound = _plain_number(float(threshold))
                    left, right = values < threshold, values >= threshold
                    yield column, left, right, {"$lt": bound}, {"$gte": bound}

    def gain(self, left_rows: IntArray, right_rows: IntArray) -> float | None:
        left, right = self.summary(left_rows), self.summary(right_rows)
        if min(left.counts.min(), right.counts.min()) < self.spec.min_leaf:
            return None
        best_left, best_right = left.best(), right.best()
        if best_left == best_right:
            return None
        if not (
            _beats(left, best_left, best_right, self.spec.min_z)
            and _beats(right, best_right, best_left, self.spec.min_z)
        ):
            return None
        both = self.summary(np.concatenate([left_rows, right_rows])).best()
        return float(
            left.total * (left.means[best_left] - left.means[both])
            + right.total * (right.means[best_right] - right.means[both])
        )


def _beats(side: _Summary, winner: int, other: int, min_z: float) -> bool:
    """Whether ``winner`` beats ``other`` on this side by ``min_z`` standard errors (Welch)."""
    difference = float(side.means[winner] - side.means[other])
    variance = float(
        side.variances[winner] / side.counts[winner] + side.variances[other] / side.counts[other]
    )
    if not (math.isfinite(difference) and math.isfinite(variance)):
        return False
    if variance <= 0.0:
        return difference > 0.0
    return difference / math.sqrt(variance) >= min_z


def _plain_number(value: float) -> int | float:
    """A whole threshold as an int (``30``, not ``30.0``) so conditions read naturally."""
    if value.is_integer() and abs(value) < _MAX_SAFE_INTEGER:
        return int(value)
    return value


def _condition(path: list[tuple[str, Any]]) -> dict[str, Any]:
    """The tests along a path as one condition: one key per attribute, else ``$and``."""
    names = [name for name, _ in path]
    if len(set(names)) == len(names):
        return dict(path)
    return {"$and": [{name: test} for name, test in path]}
