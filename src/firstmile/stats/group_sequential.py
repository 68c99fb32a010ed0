# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""Group-sequential testing: planned looks that spend exactly ``α`` (Lan–DeMets).

The always-valid sequence of :mod:`firstmile.stats.sequential` holds for *any* peeking,
and pays for it: read once a day for two weeks its false-positive rate is about 1%, well
under ``α``, and it needs more users to detect an effect. When the looks are planned —
"we read the result every day for 14 days, up to 2,800 users" — an **alpha-spending**
design uses the whole ``α`` over those looks instead: under the null hypothesis the chance
that *any* planned look crosses its boundary is ``α``, so daily peeking is safe and the
false-positive rate is ``α`` rather than far below it.

**Spending functions** (Lan & DeMets 1983, "Discrete sequential boundaries for clinical
trials", Biometrika 70(3)). With information fraction ``t = N / N_planned``:

* Pocock-type: ``α(t) = α · ln(1 + (e − 1) t)`` — nearly constant boundaries, early
  stopping is easy (the default: onboarding experiments are short);
* O'Brien–Fleming-type: ``α(t) = 2 − 2 Φ(z_{1−α/2} / √t)`` — very strict early, close to
  the fixed-horizon boundary at the end.

**Boundaries.** The ``K`` looks are planned at equal information fractions
``t_k = k / K``. The standardized statistic is a Brownian motion in information time,
``B(t_k) = Z_k √t_k`` with independent ``N(0, t_k − t_{k−1})`` increments; the boundary
``c_k`` is the value for which ``P(|Z_k| ≥ c_k, no earlier crossing) = α(t_k) − α(t_{k−1})``,
found by propagating the density of ``B`` over the continuation region on a grid
(recursive numerical integration, Armitage, McPherson & Rowe 1969) and solving for the
tail mass. Boundaries depend only on ``(K, α, spending)`` and are computed once.

**A look** is placed by the users so far: look ``k = ⌈K · N / N_planned⌉`` (at least 1,
at most ``K``). Reading at the planned fractions keeps the guarantee; reading more often
spends more than planned, and past ``N_planned`` the design has spent all of ``α``
(a warning says so). The repeated confidence interval ``δ̂ ± c_k · se`` covers the effect
at every planned look at once with probability ``1 − α`` (Jennison & Turnbull 1989).

>>> round(boundaries(1, 0.05, "pocock")[0], 3)
1.96
>>> [round(c, 2) for c in boundaries(5, 0.05, "pocock")]
[2.44, 2.43, 2.41, 2.4, 2.39]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final, Literal

import numpy as np
from scipy import stats as sps

from firstmile.stats._common import (
    Interval,
    check_level,
    check_moments,
    finite,
    interval,
    relative_with_interval,
    summarize,
)
from firstmile.stats.moments import Moments

Spending = Literal["pocock", "obrien_fleming"]
SPENDINGS: Final[tuple[Spending, ...]] = ("pocock", "obrien_fleming")
MAX_LOOKS: Final = 200
# The grid, on the Brownian scale where B(1) ~ N(0, 1): ±8 standard deviations, and at
# least 10 points per standard deviation of one increment.
_GRID_STEP: Final = 0.01
_GRID_HALF_WIDTH: Final = 8.0


def spent(t: float, alpha: float, spending: Spending) -> float:
    """The cumulative ``α`` spent at information fraction ``t`` (0 ≤ t ≤ 1).

    >>> round(spent(1.0, 0.05, "pocock"), 6), round(spent(1.0, 0.05, "obrien_fleming"), 6)
    (0.05, 0.05)
    """
    t = min(max(t, 0.0), 1.0)
    if t == 0.0:
        return 0.0
    if spending == "pocock":
        return alpha * math.log1p((math.e - 1.0) * t)
    z = float(sps.norm.isf(alpha / 2.0))
    return float(2.0 * sps.norm.sf(z / math.sqrt(t)))


def boundaries(looks: int, alpha: float, spending: Spending) -> tuple[float, ...]:
    """The two-sided z boundaries ``c_1 … c_K`` of ``looks`` equally spaced looks."""
    if isinstance(looks, bool) or not isinstance(looks, int) or not 1 <= looks <= MAX_LOOKS:
        raise ValueError(f"looks must be an integer from 1 to {MAX_LOOKS}, got {looks!r}")
    alpha = check_level(alpha, "alpha")
    if spending not in SPENDINGS:
        raise ValueError(f"spending must be one of {SPENDINGS}, got {spending!r}")
    return _boundaries(looks, alpha, spending)


@lru_cache(maxsize=64)  # a design's boundaries never change: computed once (~0.1 s)
def _boundaries(looks: int, alpha: float, spending: Spending) -> tuple[float, ...]:
    dt = 1.0 / looks
    step = min(_GRID_STEP, math.sqrt(dt) / 10.0)
    grid = np.arange(-_GRID_HALF_WIDTH, _GRID_HALF_WIDTH + step / 2, step)
    # Transition kernel of one increment N(0, dt), with trapezoid weights on the source.
    weights = np.full(grid.size, step)
    weights[[0, -1]] = step / 2
    kernel = sps.norm.pdf(grid[:, None] - grid[None, :], scale=math.sqrt(dt)) * weights[None, :]
    density = sps.norm.pdf(grid, scale=math.sqrt(dt))  # B(t_1)
    out: list[float] = []
    previous = 0.0
    for k in range(1, looks + 1):
        t = k * dt
        target = spent(t, alpha, spending) - previous
        previous += target
        bound = _tail_bound(grid, density, target)
        out.append(bound / math.sqrt(t))
        if k < looks:
            density = kernel @ np.where(np.abs(grid) < bound, density, 0.0)
    return tuple(out)


def _tail_bound(grid: np.ndarray, density: np.ndarray, target: float) -> float:
    """The ``b`` with ``∫_{|x| ≥ b} density = target`` (density symmetric on the grid)."""
    upper = grid >= 0.0
    x, f = grid[upper], density[upper]
    # Mass beyond each grid point, from the right end inwards (trapezoids), both tails.
    pieces = (f[1:] + f[:-1]) / 2.0 * np.diff(x)
    beyond = 2.0 * np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])
    if target <= 0.0 or target < beyond[-2]:
        return float(x[-1])
    if target >= beyond[0]:
        return 0.0
    # beyond decreases with x: interpolate where it crosses the target.
    return float(np.interp(-target, -beyond, x))


@dataclass(frozen=True, slots=True)
class GroupSequentialResult:
    """One look of a group-sequential comparison of means (treatment minus control).

    ``look`` of ``looks`` is where ``n`` users put the reading; ``boundary`` is that look's
    z boundary and ``significant`` whether ``|z|`` reached it. The intervals are repeated
    confidence intervals (``± boundary · se``). Numbers are finite or None, never NaN.
    """

    alpha: float
    spending: Spending
    planned_n: int
    looks: int
    look: int
    n: int
    information: float
    boundary: float
    alpha_spent: float
    absolute: float | None
    absolute_ci: Interval | None
    relative: float | None
    relative_ci: Interval | None
    z: float | None
    significant: bool
    warnings: tuple[str, ...] = ()


def group_sequential_test(
    control: Moments,
    treatment: Moments,
    *,
    planned_n: int,
    looks: int,
    alpha: float = 0.05,
    spending: Spending = "pocock",
) -> GroupSequentialResult:
    """The comparison at this look of a design with ``looks`` planned looks up to
    ``planned_n`` users in all (see the module doc).

    >>> control = Moments(n=700, sum=700 * 10.0, sum_sq=700 * (100.0 + 9.0))
    >>> treatment = Moments(n=700, sum=700 * 10.5, sum_sq=700 * (10.5**2 + 9.0))
    >>> r = group_sequential_test(control, treatment, planned_n=2800, looks=14)
    >>> r.look, round(r.boundary, 3), round(r.z, 2), r.significant
    (7, 2.584, 3.12, True)
    """
    if isinstance(planned_n, bool) or not isinstance(planned_n, int) or planned_n < 2:
        raise ValueError(f"planned_n must be an integer >= 2 (planned users), got {planned_n!r}")
    bounds = boundaries(looks, alpha, spending)
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    warnings: list[str] = []
    n = control.n + treatment.n
    information = n / planned_n
    look = min(looks, max(1, math.ceil(looks * information - 1e-9)))
    if n > planned_n:
        warnings.append(
            f"{n} users, past the {planned_n} planned: the design has spent all of alpha"
        )
    boundary = bounds[look - 1]
    base = GroupSequentialResult(
        alpha=alpha,
        spending=spending,
        planned_n=planned_n,
        looks=looks,
        look=look,
        n=n,
        information=information,
        boundary=boundary,
        alpha_spent=spent(look / looks, alpha, spending),
        absolute=None,
        absolute_ci=None,
        relative=None,
        relative_ci=None,
        z=None,
        significant=False,
    )
    c = summarize("control", control, warnings)
    t = summarize("treatment", treatment, warnings)
    if c is None or t is None:
        return replace(base, warnings=tuple(warnings))
    var_c, var_t = c.variance / c.n, t.variance / t.n
    variance = var_c + var_t
    diff = t.mean - c.mean
    if variance == 0.0:
        warnings.append("zero variance in both variants: the test is undefined")
        return replace(base, absolute=diff, warnings=tuple(warnings))
    se = math.sqrt(variance)
    z = diff / se
    relative, relative_ci = relative_with_interval(
        (c.mean, t.mean), (var_c, var_t), boundary, warnings
    )
    return replace(
        base,
        absolute=finite(diff, "absolute effect", warnings),
        absolute_ci=interval(diff, boundary * se, "absolute interval", warnings),
        relative=relative,
        relative_ci=relative_ci,
        z=finite(z, "z", warnings),
        significant=abs(z) >= boundary,
        warnings=tuple(warnings),
    )
