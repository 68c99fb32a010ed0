# ruff: noqa: RUF002, RUF003 - docstrings and comments write formulas in math notation
"""Mergeable sufficient statistics of one metric in one variant.

Every test in :mod:`firstmile.stats` reads :class:`Moments`, never raw values, so a report
costs O(variants × metrics) whatever the number of users, and the statistics can come from
anywhere that can add: a SQL ``GROUP BY`` (``COUNT(*)``, ``SUM(y)``, ``SUM(y*y)``,
``SUM(x)``, ``SUM(x*x)``, ``SUM(x*y)``), per-day partial aggregates merged later, or a
stream of single observations.

For a metric ``y`` (revenue, steps completed, a 0/1 conversion) and an optional
pre-exposure covariate ``x`` (the same metric before the experiment, for CUPED):

=============  ===========
field          value
=============  ===========
``n``          users
``sum``        Σ y
``sum_sq``     Σ y²
``sum_x``      Σ x
``sum_x_sq``   Σ x²
``sum_xy``     Σ x·y
=============  ===========

Sums are exact for integers below 2**53 and otherwise carry rounding of a few ulps per
addition, so ``merge`` is associative up to rounding (exactly, on integer data). Variances
come from the centered sum of squares ``sum_sq - sum**2 / n``; like any one-pass
raw-moment formula it loses digits when the mean is huge relative to the spread
(coefficient of variation below ~1e-6), which experiment metrics never approach.

Examples
--------
>>> m = Moments.from_values([3.0, 5.0, 7.0])
>>> m.n, m.mean, m.variance
(3, 5.0, 4.0)
>>> m.add(9.0) == Moments.from_values([3.0, 5.0, 7.0, 9.0])
True
>>> m.merge(Moments.from_values([9.0])).mean
6.0
>>> Moments.from_counts(n=200, conversions=30).mean
0.15
>>> Moments().mean is None
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

# Slack for the Cauchy–Schwarz consistency checks (sum² ≤ n·sum_sq, ...), which rounding
# of the raw sums can break by a few ulps on constant data (relative), and squares that
# underflow to subnormal numbers can break by far more (absolute).
_CONSISTENCY_RTOL: Final = 1e-9
_CONSISTENCY_ATOL: Final = 1e-280
_FIELDS: Final = ("sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy")
#: A centered sum of squares below this fraction of the raw sum of squares is rounding
#: noise of ``sum_sq - sum**2 / n`` and counts as 0 (constant data has zero variance).
ZERO_VARIANCE_RTOL: Final = 1e-12


@dataclass(frozen=True, slots=True)
class Moments:
    """Count and raw sums of a metric ``y`` and a covariate ``x`` (see the module doc).

    Raises ValueError for a negative or non-integer ``n``, a non-finite sum, a negative
    sum of squares, sums on zero users, or sums no set of real numbers can have
    (``sum**2 > n * sum_sq``).
    """

    n: int = 0
    sum: float = 0.0
    sum_sq: float = 0.0
    sum_x: float = 0.0
    sum_x_sq: float = 0.0
    sum_xy: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer):
            raise ValueError(f"Moments.n must be an integer count, got {self.n!r}")
        if self.n < 0:
            raise ValueError(f"Moments.n must be >= 0, got {self.n}")
        object.__setattr__(self, "n", int(self.n))
        for name in _FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ValueError(f"Moments.{name} must be a number, got {value!r}")
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"Moments.{name} must be finite, got {value!r}")
            object.__setattr__(self, name, number)
        if self.sum_sq < 0 or self.sum_x_sq < 0:
            raise ValueError("Moments.sum_sq and Moments.sum_x_sq are sums of squares: >= 0")
        if self.n == 0 and any(getattr(self, name) != 0.0 for name in _FIELDS):
            raise ValueError("Moments with n = 0 must have all sums equal to 0")
        if not _at_most(self.sum * self.sum, self.n * self.sum_sq):
            raise ValueError("Moments.sum**2 > n * sum_sq: not the sums of real values")
        if not _at_most(self.sum_x * self.sum_x, self.n * self.sum_x_sq):
            raise ValueError("Moments.sum_x**2 > n * sum_x_sq: not the sums of real values")
        if not _at_most(self.sum_xy * self.sum_xy, self.sum_sq * self.sum_x_sq):
            raise ValueError("Moments.sum_xy**2 > sum_sq * sum_x_sq: not the sums of real values")

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_values(cls, values: npt.ArrayLike, covariate: npt.ArrayLike | None = None) -> Moments:
        """The moments of a 1-D array of values (and of a covariate of the same length).

        >>> Moments.from_values([1.0, 2.0], covariate=[0.0, 4.0]).sum_xy
        8.0
        """
        y = _as_vector(values, "values")
        if covariate is None:
            x = np.zeros_like(y)
        else:
            x = _as_vector(covariate, "covariate")
            if x.shape != y.shape:
                raise ValueError(
                    f"covariate has {x.shape[0]} values for {y.shape[0]} metric values"
                )
        return cls(
            n=int(y.shape[0]),
            sum=float(np.sum(y)),
            sum_sq=float(np.sum(y * y)),
            sum_x=float(np.sum(x)),
            sum_x_sq=float(np.sum(x * x)),
            sum_xy=float(np.sum(x * y)),
        )

    @classmethod
    def from_counts(cls, n: int, conversions: int) -> Moments:
        """The moments of a 0/1 conversion metric: ``conversions`` ones among ``n`` users.

        >>> Moments.from_counts(10, 4)
        Moments(n=10, sum=4.0, sum_sq=4.0, sum_x=0.0, sum_x_sq=0.0, sum_xy=0.0)
        """
        for name, value in (("n", n), ("conversions", conversions)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"{name} must be an integer count, got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if conversions > n:
            raise ValueError(f"conversions ({conversions}) cannot exceed n ({n})")
        return cls(n=int(n), sum=float(conversions), sum_sq=float(conversions))

    @classmethod
    def merged(cls, parts: Iterable[Moments]) -> Moments:
        """All ``parts`` merged (the empty Moments when there are none).

        >>> Moments.merged([Moments.from_values([1.0]), Moments.from_values([3.0])]).mean
        2.0
        """
        total = cls()
        for part in parts:
            total = total.merge(part)
        return total

    def add(self, value: float, covariate: float = 0.0) -> Moments:
        """These moments with one more observation ``value`` (covariate ``covariate``)."""
        y, x = float(value), float(covariate)
        if not (math.isfinite(y) and math.isfinite(x)):
            raise ValueError(f"values must be finite, got {value!r} (covariate {covariate!r})")
        return Moments(
            n=self.n + 1,
            sum=self.sum + y,
            sum_sq=self.sum_sq + y * y,
            sum_x=self.sum_x + x,
            sum_x_sq=self.sum_x_sq + x * x,
            sum_xy=self.sum_xy + x * y,
        )

    def merge(self, other: Moments) -> Moments:
        """The moments of both sets of observations (disjoint users)."""
        if not isinstance(other, Moments):
            raise ValueError(f"can only merge Moments, got {type(other).__name__}")
        return Moments(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_sq=self.sum_sq + other.sum_sq,
            sum_x=self.sum_x + other.sum_x,
            sum_x_sq=self.sum_x_sq + other.sum_x_sq,
            sum_xy=self.sum_xy + other.sum_xy,
        )

    # -- derived statistics (None where undefined: never NaN) ---------------------------

    @property
    def mean(self) -> float | None:
        """Σy / n; None when n = 0."""
        return self.sum / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof = 1) of y; None when n < 2."""
        if self.n < 2:
            return None
        return centered_ss(self.n, self.sum, self.sum_sq) / (self.n - 1)

    @property
    def std(self) -> float | None:
        """Sample standard deviation of y; None when n < 2."""
        variance = self.variance
        return None if variance is None else math.sqrt(variance)

    @property
    def covariate_mean(self) -> float | None:
        """Σx / n; None when n = 0."""
        return self.sum_x / self.n if self.n else None

    @property
    def covariate_variance(self) -> float | None:
        """Sample variance (ddof = 1) of x; None when n < 2."""
        if self.n < 2:
            return None
        return centered_ss(self.n, self.sum_x, self.sum_x_sq) / (self.n - 1)

    @property
    def covariance(self) -> float | None:
        """Sample covariance (ddof = 1) of x and y; None when n < 2."""
        if self.n < 2:
            return None
        return (self.sum_xy - self.sum * self.sum_x / self.n) / (self.n - 1)


def _at_most(left: float, right: float) -> bool:
    """``left <= right`` up to the rounding of raw sums (Cauchy–Schwarz checks)."""
    return left <= right * (1.0 + _CONSISTENCY_RTOL) + _CONSISTENCY_ATOL


def centered_ss(n: int, total: float, total_sq: float) -> float:
    """``Σ(v - mean)²`` from raw sums; 0 for n = 0 and within rounding of the raw sums."""
    if n == 0:
        return 0.0
    value = total_sq - total * total / n
    return 0.0 if value <= ZERO_VARIANCE_RTOL * abs(total_sq) else value


def _as_vector(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must all be finite numbers")
    return array
