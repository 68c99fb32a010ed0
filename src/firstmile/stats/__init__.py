# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""The stats engine of experiments: pure functions on mergeable sufficient statistics.

Every test reads :class:`Moments` (n, Σy, Σy², and the covariate sums CUPED needs) per
variant and metric, so a report costs O(variants × metrics) whatever the traffic. Results
are frozen dataclasses whose numbers are finite floats or ``None`` — never NaN — with a
``warnings`` tuple saying why something is missing; invalid arguments raise ValueError.

* frequentist: :func:`welch_test`, :func:`two_proportion_ztest`
* Bayesian: :func:`beta_binomial_test`, :func:`gaussian_test`, :func:`beta_prob_greater`
* variance reduction: :func:`cuped_adjust`, :func:`cuped_test`
* sequential (always valid): :func:`sequential_test`; with planned looks:
  :func:`group_sequential_test`
* checks and corrections: :func:`sample_ratio_mismatch`, :func:`holm`,
  :func:`benjamini_hochberg`
* ratio metrics (delta method): :func:`ratio_test`, :func:`linearize_ratio`
* planning: :func:`power_means`, :func:`sample_size_means`, :func:`mde_means`,
  :func:`power_proportions`, :func:`sample_size_proportions`

Formulas, assumptions and references are in each module's docstring and in docs/stats.md.
This package imports only numpy, scipy and the standard library.

Examples
--------
>>> control = Moments.from_counts(n=4000, conversions=400)
>>> treatment = Moments.from_counts(n=4000, conversions=470)
>>> sample_ratio_mismatch([control.n, treatment.n]).mismatch
False
>>> result = two_proportion_ztest(control, treatment)
>>> round(result.relative, 3), result.significant
(0.175, True)
"""

from firstmile.stats._common import Interval
from firstmile.stats.bayesian import (
    BayesianResult,
    beta_binomial_test,
    beta_prob_greater,
    gaussian_test,
)
from firstmile.stats.corrections import (
    MultipleTestResult,
    SrmResult,
    benjamini_hochberg,
    holm,
    sample_ratio_mismatch,
)
from firstmile.stats.cuped import CupedAdjustment, CupedResult, cuped_adjust, cuped_test
from firstmile.stats.frequentist import FrequentistResult, two_proportion_ztest, welch_test
from firstmile.stats.group_sequential import (
    GroupSequentialResult,
    group_sequential_test,
)
from firstmile.stats.moments import Moments
from firstmile.stats.power import (
    SampleSize,
    mde_means,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from firstmile.stats.ratio import linearize_ratio, ratio_test
from firstmile.stats.sequential import (
    SequentialResult,
    boundary_multiplier,
    mixture_ratio,
    sequential_test,
)

__all__ = [
    "BayesianResult",
    "CupedAdjustment",
    "CupedResult",
    "FrequentistResult",
    "GroupSequentialResult",
    "Interval",
    "Moments",
    "MultipleTestResult",
    "SampleSize",
    "SequentialResult",
    "SrmResult",
    "benjamini_hochberg",
    "beta_binomial_test",
    "beta_prob_greater",
    "boundary_multiplier",
    "cuped_adjust",
    "cuped_test",
    "gaussian_test",
    "group_sequential_test",
    "holm",
    "linearize_ratio",
    "mde_means",
    "mixture_ratio",
    "power_means",
    "power_proportions",
    "ratio_test",
    "sample_ratio_mismatch",
    "sample_size_means",
    "sample_size_proportions",
    "sequential_test",
    "two_proportion_ztest",
    "welch_test",
]
