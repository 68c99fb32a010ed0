# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""Sample ratio mismatch, and multiple-testing corrections across metrics.

**Sample ratio mismatch (SRM)** — Pearson's chi-square goodness-of-fit test of the
assignment counts against the configured split (Fabijan et al. 2019, "Diagnosing Sample
Ratio Mismatch in Online Controlled Experiments", KDD). With ``k`` variants, counts ``O_i``
and weights ``w_i``, ``E_i = N · w_i / Σw``:

    χ² = Σ (O_i - E_i)² / E_i,   p = P(χ²_{k-1} ≥ χ²)

(as ``scipy.stats.chisquare(O, E)``). A mismatch (``p < threshold``, 0.001 by default, as
is common, to keep false alarms rare across many experiments) means the assignment or the
logging is broken and no metric result of the experiment should be trusted.

**Holm** (Holm 1979, "A simple sequentially rejective multiple test procedure",
Scandinavian Journal of Statistics 6) controls the family-wise error rate — the chance of
*any* false positive among the metrics — with no assumption on their dependence. With the
``m`` p-values sorted ``p₍₁₎ ≤ … ≤ p₍ₘ₎``, the adjusted values are
``p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m - j + 1) p₍ⱼ₎)``.

**Benjamini–Hochberg** (Benjamini & Hochberg 1995, "Controlling the false discovery rate",
JRSS B 57) controls the false discovery rate — the expected share of false positives among
the metrics declared significant — for independent or positively dependent tests:
``p̃₍ᵢ₎ = min_{j ≥ i} min(1, m p₍ⱼ₎ / j)``.

Both reject where ``p̃ ≤ alpha`` and match ``statsmodels.stats.multitest.multipletests``
(``"holm"``, ``"fdr_bh"``). A missing p-value (``None``, a test that could not be computed)
is left out of the family, with a warning.

Examples
--------
>>> srm = sample_ratio_mismatch([5000, 5200])
>>> round(srm.p_value, 4), srm.mismatch
(0.0477, False)
>>> holm([0.01, 0.04, 0.03]).adjusted
(0.03, 0.06, 0.06)
>>> benjamini_hochberg([0.01, 0.04, 0.03]).adjusted
(0.03, 0.04, 0.04)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real

from scipy import special

from firstmile.stats._common import check_level


@dataclass(frozen=True, slots=True)
class SrmResult:
    """The chi-square test of assignment counts against the configured split."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float | None
    df: int
    p_value: float | None
    threshold: float
    warnings: tuple[str, ...] = ()

    @property
    def mismatch(self) -> bool | None:
        """``p_value < threshold``; None when there is no p-value (no users yet)."""
        return None if self.p_value is None else self.p_value < self.threshold


@dataclass(frozen=True, slots=True)
class MultipleTestResult:
    """Adjusted p-values and decisions, in the order of the input p-values."""

    method: str
    alpha: float
    p_values: tuple[float | None, ...]
    adjusted: tuple[float | None, ...]
    reject: tuple[bool, ...]
    warnings: tuple[str, ...] = ()


def sample_ratio_mismatch(
    counts: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    threshold: float = 0.001,
) -> SrmResult:
    """Chi-square SRM check of ``counts`` (users per variant) against ``weights``.

    ``weights`` are the configured traffic split in any scale (``[50, 50]``,
    ``[0.2, 0.8]``); equal by default.
    """
    threshold = check_level(threshold, "threshold")
    observed = tuple(_count(value) for value in counts)
    if len(observed) < 2:
        raise ValueError(f"the SRM check needs at least 2 variants, got {len(observed)}")
    if weights is None:
        shares = [1.0] * len(observed)
    else:
        shares = [_weight(value) for value in weights]
        if len(shares) != len(observed):
            raise ValueError(f"{len(shares)} weights for {len(observed)} variants")
    total = sum(observed)
    weight_total = math.fsum(shares)
    expected = tuple(total * share / weight_total for share in shares)
    df = len(observed) - 1
    warnings: list[str] = []
    if total == 0:
        warnings.append("no users assigned yet: nothing to check")
        return SrmResult(observed, expected, None, df, None, threshold, tuple(warnings))
    if min(expected) < 5.0:
        warnings.append("an expected count is below 5: the chi-square approximation is rough")
    statistic = math.fsum((o - e) * (o - e) / e for o, e in zip(observed, expected, strict=True))
    p_value = min(1.0, max(0.0, float(special.chdtrc(df, statistic))))
    return SrmResult(observed, expected, statistic, df, p_value, threshold, tuple(warnings))


def holm(p_values: Sequence[float | None], *, alpha: float = 0.05) -> MultipleTestResult:
    """Holm's step-down adjustment (family-wise error rate; see the module doc)."""
    return _adjust("holm", p_values, alpha)


def benjamini_hochberg(
    p_values: Sequence[float | None], *, alpha: float = 0.05
) -> MultipleTestResult:
    """Benjamini–Hochberg step-up adjustment (false discovery rate; see the module doc)."""
    return _adjust("benjamini-hochberg", p_values, alpha)


def _adjust(method: str, p_values: Sequence[float | None], alpha: float) -> MultipleTestResult:
    alpha = check_level(alpha, "alpha")
    values = tuple(_p_value(p) for p in p_values)
    ranked = sorted((p, i) for i, p in enumerate(values) if p is not None)
    warnings: list[str] = []
    missing = len(values) - len(ranked)
    if missing:
        warnings.append(f"{missing} missing p-value(s) left out of the family")
    m = len(ranked)
    sorted_p = [p for p, _ in ranked]
    adjusted_sorted: list[float] = [0.0] * m
    if method == "holm":
        running = 0.0
        for rank, p in enumerate(sorted_p):
            running = max(running, min(1.0, (m - rank) * p))
            adjusted_sorted[rank] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            running = min(running, 1.0, m * sorted_p[rank] / (rank + 1))
            adjusted_sorted[rank] = running
    adjusted: list[float | None] = [None] * len(values)
    for rank, (_, index) in enumerate(ranked):
        adjusted[index] = adjusted_sorted[rank]
    reject = tuple(a is not None and a <= alpha for a in adjusted)
    return MultipleTestResult(method, alpha, values, tuple(adjusted), reject, tuple(warnings))


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"counts must be non-negative integers, got {value!r}")
    return int(value)


def _weight(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"weights must be positive numbers, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0.0):
        raise ValueError(f"weights must be positive numbers, got {value!r}")
    return number


def _p_value(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"p-values must be numbers in [0, 1] or None, got {value!r}")
    number = float(value)
    if not 0.0 <= number <= 1.0:  # also rejects NaN
        raise ValueError(f"p-values must be in [0, 1], got {value!r}")
    return number
