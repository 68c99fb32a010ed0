# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""Feature drift: has the population a model now sees moved away from the one it learnt?

A model (a persona model, a classifier) is fitted on a *reference* window of users. When
the users arriving later differ — a new acquisition channel, a tracking change, a
release that moves ``sessions`` — its predictions quietly degrade. The **population
stability index** (PSI) measures, per feature, how far the recent distribution has moved
from the reference one:

    PSI = Σ_b (a_b - e_b) · ln(a_b / e_b)

where ``e_b`` is the share of reference rows in bin ``b`` and ``a_b`` the share of recent
rows. It is the symmetrised Kullback-Leibler divergence of the two binned distributions,
so it is 0 for identical shares and grows with any shift, in either direction.

**Bins.** Numeric columns are cut at the reference deciles (``bins=10``; each an
observed value, the inverted-CDF quantile), so each bin holds about a tenth of the
reference rows and the index reads the same whatever the scale of the feature; bins are
right-closed, the outer two open-ended, and repeated quantiles (a feature that is mostly
0) are merged, so a discrete column gets a bin per frequent value. Columns whose
reference values are only 0 and 1 (one-hot columns such as ``device_type=mobile``,
flags) are binary: two bins, split at 0.5. A bin empty on one side would make the
logarithm infinite, so shares are floored at ``EPSILON`` (1e-4), the usual practice.

**Reading it.** The convention common in industry (it comes from credit scoring, where
PSI has long been used to monitor scorecards) is:

* PSI < 0.1 — stable, no action;
* 0.1 ≤ PSI < 0.25 — moderate shift, worth a look;
* PSI ≥ 0.25 — major shift, the model likely needs retraining.

Features are flagged at ``threshold=0.2`` by default, between "moderate" and "major",
to alert before the shift is large without firing on sampling noise. PSI is itself
noisy on few rows (each bin is a share estimated from the recent rows), so reports on
fewer than ``10 x bins`` recent rows carry a warning.

**Carrying the reference.** :func:`reference_profile` keeps only bin edges and reference
shares per column — a few hundred numbers — so a model artifact can carry its training
distribution and later be checked with :func:`drift_against` without the training
matrix.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> reference = rng.normal(size=(5000, 2))
>>> recent = np.column_stack([rng.normal(size=2000), rng.normal(1.0, 1.0, size=2000)])
>>> report = drift_report(reference, recent, ["sessions", "days_active"])
>>> report.flagged
('days_active',)
>>> report.features[0].level
'major'
>>> profile = reference_profile(reference, ["sessions", "days_active"])
>>> drift_against(profile, recent).flagged == report.flagged
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from firstmile.errors import ModelError

EPSILON: Final = 1e-4
DEFAULT_BINS: Final = 10
DEFAULT_THRESHOLD: Final = 0.2
STABLE_BELOW: Final = 0.1
MAJOR_FROM: Final = 0.25

ColumnKind = Literal["numeric", "binary"]
DriftLevel = Literal["stable", "moderate", "major"]

FloatArray = npt.NDArray[np.float64]


def drift_level(value: float) -> DriftLevel:
    """The conventional reading of a PSI value.

    >>> drift_level(0.05), drift_level(0.2), drift_level(0.3)
    ('stable', 'moderate', 'major')
    """
    if value < STABLE_BELOW:
        return "stable"
    if value < MAJOR_FROM:
        return "moderate"
    return "major"


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """One column of the reference: its bin edges and the reference share in each bin.

    ``shares`` has one more entry than ``edges``: bin ``i`` holds the values in
    ``(edges[i-1], edges[i]]``, the first and last bins are open-ended.
    """

    column: str
    kind: ColumnKind
    edges: tuple[float, ...]
    shares: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "edges": list(self.edges),
            "shares": list(self.shares),
        }


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """The binned training distribution of every column, small enough to ship with a model."""

    columns: tuple[ColumnProfile, ...]
    rows: int
    bins: int

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(profile.column for profile in self.columns)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "bins": self.bins,
            "columns": [profile.to_json() for profile in self.columns],
        }


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    column: str
    psi: float
    kind: ColumnKind
    level: DriftLevel
    flagged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "psi": self.psi,
            "kind": self.kind,
            "level": self.level,
            "flagged": self.flagged,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    """PSI per feature, worst first, with the features over ``threshold`` flagged."""

    features: tuple[FeatureDrift, ...]
    threshold: float
    reference_rows: int
    recent_rows: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> tuple[str, ...]:
        """The columns whose PSI is over the threshold, worst first."""
        return tuple(feature.column for feature in self.features if feature.flagged)

    @property
    def max_psi(self) -> float:
        return self.features[0].psi if self.features else 0.0

    @property
    def drifted(self) -> bool:
        return bool(self.flagged)

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "reference_rows": self.reference_rows,
            "recent_rows": self.recent_rows,
            "max_psi": self.max_psi,
            "drifted": self.drifted,
            "flagged": list(self.flagged),
            "features": [feature.to_json() for feature in self.features],
            "warnings": list(self.warnings),
        }


def _matrix(values: object, what: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"The {what} matrix must hold numbers: {exc}") from exc
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ModelError(f"The {what} matrix must be 2-D; it has shape {array.shape}.")
    if array.shape[0] == 0:
        raise ModelError(f"The {what} matrix has no rows; drift needs rows on both sides.")
    if not np.isfinite(array).all():
        raise ModelError(
            f"The {what} matrix holds NaN or infinite values; drift reads the finite "
            "feature matrix (impute missing values first)."
        )
    return array


def _column(values: object, what: str) -> FloatArray:
    array = _matrix(values, what)
    if array.shape[1] != 1:
        raise ModelError(f"The {what} column must be 1-D; it has shape {array.shape}.")
    return array[:, 0]


def _profile_column(values: FloatArray, column: str, bins: int) -> ColumnProfile:
    if np.all((values == 0.0) | (values == 1.0)):
        kind: ColumnKind = "binary"
        edges: FloatArray = np.array([0.5])
    else:
        kind = "numeric"
        # inverted_cdf quantiles are observed values, so a discrete feature is cut at
        # its own values rather than at interpolated points between them; ties (a
        # feature that is mostly 0) repeat quantiles, merged into one bin per value.
        quantiles = np.quantile(values, np.arange(1, bins) / bins, method="inverted_cdf")
        edges = np.unique(quantiles)
    return ColumnProfile(column, kind, tuple(edges.tolist()), tuple(_shares(values, edges)))


def _shares(values: FloatArray, edges: FloatArray) -> list[float]:
    # side="left" puts a value equal to an edge in the bin that edge closes: (lo, hi].
    index = np.searchsorted(edges, values, side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    shares: list[float] = (counts / len(values)).tolist()
    return shares


def _psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=np.float64), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=np.float64), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ModelError(f"bins must be an integer of at least 2, not {bins!r}.")


def psi(reference_col: object, recent_col: object, *, bins: int = DEFAULT_BINS) -> float:
    """Population stability index of one feature, binned on the reference column.

    >>> import numpy as np
    >>> reference = np.arange(1000.0)
    >>> round(psi(reference, reference), 6)
    0.0
    >>> # Shifted up by a decile: the bottom bin empties and the top one doubles,
    >>> # (ε - 0.1)·ln(ε / 0.1) + (0.2 - 0.1)·ln 2
    >>> round(psi(reference, reference + 100), 4)
    0.7594
    """
    _check_bins(bins)
    reference = _column(reference_col, "reference")
    recent = _column(recent_col, "recent")
    profile = _profile_column(reference, "column", bins)
    return _psi(profile.shares, _shares(recent, np.asarray(profile.edges, dtype=np.float64)))


def reference_profile(
    X: object, columns: Sequence[str], *, bins: int = DEFAULT_BINS
) -> ReferenceProfile:
    """Bin edges and shares of every column of the reference (training) matrix."""
    _check_bins(bins)
    reference = _matrix(X, "reference")
    names = tuple(columns)
    if len(names) != reference.shape[1]:
        raise ModelError(f"{len(names)} column names for a matrix of {reference.shape[1]} columns.")
    if len(set(names)) != len(names):
        raise ModelError("Column names must be unique.")
    return ReferenceProfile(
        columns=tuple(_profile_column(reference[:, j], name, bins) for j, name in enumerate(names)),
        rows=reference.shape[0],
        bins=bins,
    )


def drift_against(
    profile: ReferenceProfile, recent: object, *, threshold: float = DEFAULT_THRESHOLD
) -> DriftReport:
    """PSI of every column of ``recent`` (same columns, same order) against a profile."""
    if not math.isfinite(threshold) or threshold < 0:
        raise ModelError(f"threshold must be a non-negative number, not {threshold!r}.")
    matrix = _matrix(recent, "recent")
    if matrix.shape[1] != len(profile.columns):
        raise ModelError(
            f"The recent matrix has {matrix.shape[1]} columns; the reference profile has "
            f"{len(profile.columns)} ({', '.join(profile.names)})."
        )
    features = []
    for j, column in enumerate(profile.columns):
        edges = np.asarray(column.edges, dtype=np.float64)
        value = _psi(column.shares, _shares(matrix[:, j], edges))
        features.append(
            FeatureDrift(
                column=column.column,
                psi=value,
                kind=column.kind,
                level=drift_level(value),
                flagged=value > threshold,
            )
        )
    features.sort(key=lambda feature: (-feature.psi, feature.column))
    warnings: list[str] = []
    if matrix.shape[0] < 10 * profile.bins:
        warnings.append(
            f"Only {matrix.shape[0]} recent rows for {profile.bins} bins: PSI is noisy "
            f"below {10 * profile.bins} rows."
        )
    return DriftReport(
        features=tuple(features),
        threshold=threshold,
        reference_rows=profile.rows,
        recent_rows=matrix.shape[0],
        warnings=tuple(warnings),
    )


def drift_report(
    reference: object,
    recent: object,
    columns: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    bins: int = DEFAULT_BINS,
) -> DriftReport:
    """PSI per feature between a reference (training window) matrix and a recent one."""
    return drift_against(
        reference_profile(reference, columns, bins=bins), recent, threshold=threshold
    )
