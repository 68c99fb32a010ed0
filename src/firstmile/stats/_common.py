"""Shared pieces of the stats engine: intervals, argument checks, NaN-free numbers.

Nothing here is public API except :class:`Interval` (re-exported by ``firstmile.stats``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from firstmile.stats.moments import Moments, centered_ss


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed interval ``[lower, upper]`` (a confidence, credible or always-valid one).

    >>> Interval(-0.5, 1.5).contains(0.0), Interval(-0.5, 1.5).width
    (True, 2.0)
    """

    lower: float
    upper: float

    @property
    def width(self) -> float:
        return self.upper - self.lower

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper

    def excludes_zero(self) -> bool:
        return not self.contains(0.0)


@dataclass(frozen=True, slots=True)
class ArmSummary:
    """What a two-sample test needs of one variant: n, mean and sample variance."""

    n: int
    mean: float
    variance: float


def check_level(value: float, name: str) -> float:
    """``value`` as a float strictly inside (0, 1), else a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    number = float(value)
    if not 0.0 < number < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return number


def check_positive(value: float, name: str) -> float:
    """``value`` as a finite float > 0, else a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0.0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_moments(value: object, name: str) -> Moments:
    if not isinstance(value, Moments):
        raise ValueError(f"{name} must be a firstmile.stats.Moments, got {type(value).__name__}")
    return value


def summarize(label: str, arm: Moments, warnings: list[str]) -> ArmSummary | None:
    """An :class:`ArmSummary`, or None (with a warning) when the variance is undefined."""
    if arm.n == 0:
        warnings.append(f"{label}: empty variant (n = 0)")
        return None
    if arm.n < 2:
        warnings.append(f"{label}: n = 1, the variance is undefined")
        return None
    variance = centered_ss(arm.n, arm.sum, arm.sum_sq) / (arm.n - 1)
    return ArmSummary(arm.n, arm.sum / arm.n, variance)


def finite(value: float, label: str, warnings: list[str]) -> float | None:
    """``value`` when it is a finite number; None with a warning otherwise (never NaN)."""
    if math.isfinite(value):
        return value
    warnings.append(f"{label} is not a finite number and was left out")
    return None


def interval(center: float, half_width: float, label: str, warnings: list[str]) -> Interval | None:
    """``center ± half_width`` when both ends are finite numbers, else None with a warning."""
    lower, upper = center - half_width, center + half_width
    if math.isfinite(lower) and math.isfinite(upper):
        return Interval(lower, upper)
    warnings.append(f"{label} is not finite and was left out")
    return None


def clamp_probability(value: float) -> float:
    return min(1.0, max(0.0, value))


def relative_effect(
    control_mean: float, control_var: float, treatment_mean: float, treatment_var: float
) -> tuple[float, float] | None:
    """``(mt / mc - 1, its delta-method variance)``; None when the control mean is 0.

    ``control_var`` and ``treatment_var`` are the variances of the two *means*. For
    independent arms the first-order Taylor expansion of ``f(mt, mc) = mt / mc - 1`` gives
    ``Var ≈ Var(mt) / mc² + mt² Var(mc) / mc⁴`` (Deng, Knoblich & Lu 2018, "Applying the
    Delta Method in Metric Analytics", KDD).
    """
    if control_mean == 0.0:
        return None
    ratio = treatment_mean / control_mean
    # Written with ratios so that no intermediate power over- or underflows.
    variance = (treatment_var / control_mean + ratio * ratio * control_var / control_mean) / (
        control_mean
    )
    return ratio - 1.0, variance


def relative_with_interval(
    means: tuple[float, float],
    variances: tuple[float, float],
    half_width_se: float,
    warnings: list[str],
    *,
    what: str = "control mean",
) -> tuple[float | None, Interval | None]:
    """The relative effect of ``(control, treatment)`` means and its interval of
    ``half_width_se`` delta-method standard errors; Nones with a warning when undefined."""
    effect = relative_effect(means[0], variances[0], means[1], variances[1])
    if effect is None:
        warnings.append(f"{what} is 0: the relative effect is undefined")
        return None, None
    relative, variance = effect
    return (
        finite(relative, "relative effect", warnings),
        interval(relative, half_width_se * math.sqrt(variance), "relative interval", warnings),
    )


def check_binary(arm: Moments, label: str, test: str) -> None:
    """ValueError unless ``arm`` holds the moments of 0/1 values (``sum == sum_sq <= n``)."""
    if abs(arm.sum - arm.sum_sq) > 1e-9 * max(1.0, arm.sum) or arm.sum > arm.n:
        raise ValueError(
            f"{label}: {test} needs a 0/1 conversion metric (sum == sum_sq <= n), "
            "e.g. Moments.from_counts(n, conversions)"
        )
