"""Bucket ranges: which slice of [0, 1) each variation owns, and the choice of one.

A variation's range starts where the earlier variations' weights end, whatever the
coverage, and is ``coverage * weight`` wide. Raising coverage therefore only widens each
range: a user already in keeps their variation (``conditions-and-bucketing.md`` §2).

>>> get_bucket_ranges(2, 0.5)
((0.0, 0.25), (0.5, 0.75))
>>> choose_variation(0.6, get_bucket_ranges(2, 0.5)), choose_variation(0.3, ((0, 0.25),))
(1, -1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

BucketRange = tuple[float, float]
"""``(start, end)``: a hash ``n`` is in the range when ``start <= n < end``."""

WEIGHT_SUM_MIN: Final = 0.99
WEIGHT_SUM_MAX: Final = 1.01
"""Weights summing outside this band are replaced by equal weights, as in GrowthBook."""


def get_equal_weights(num_variations: int) -> tuple[float, ...]:
    """``num_variations`` equal weights summing to 1 (none for fewer than one variation).

    >>> get_equal_weights(4), get_equal_weights(0)
    ((0.25, 0.25, 0.25, 0.25), ())
    """
    if num_variations < 1:
        return ()
    return (1 / num_variations,) * num_variations


def usable_weights(num_variations: int, weights: Sequence[float] | None) -> bool:
    """Whether GrowthBook would bucket on ``weights`` rather than fall back to equal ones.

    They must be one finite, non-negative number per variation, summing to 1 within
    [0.99, 1.01]. (The JavaScript SDK checks only the count and the sum; the stricter
    check, as in the Python SDK, differs only on vectors no valid definition has.)

    >>> usable_weights(2, [0.4, 0.6]), usable_weights(2, [0.7, 0.6]), usable_weights(3, [1, 0])
    (True, False, False)
    """
    if weights is None or len(weights) != num_variations:
        return False
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            return False
        if not math.isfinite(weight) or weight < 0:
            return False
    return WEIGHT_SUM_MIN <= sum(weights) <= WEIGHT_SUM_MAX


def get_bucket_ranges(
    num_variations: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> tuple[BucketRange, ...]:
    """GrowthBook's ``getBucketRanges``: one ``[start, start + coverage * weight)`` per variation.

    Coverage is clamped to [0, 1]; ``weights`` that are missing, of the wrong length or not
    summing to about 1 are replaced by equal weights.

    >>> get_bucket_ranges(3, 0.2, [0.2, 0.3, 0.5])
    ((0.0, 0.04000000000000001), (0.2, 0.26), (0.5, 0.6))
    >>> get_bucket_ranges(2, 1.0, [0.7, 0.6])
    ((0.0, 0.5), (0.5, 1.0))
    """
    coverage = min(max(coverage, 0.0), 1.0)
    used = weights if usable_weights(num_variations, weights) else None
    shares = get_equal_weights(num_variations) if used is None else used
    # Summed left to right exactly as the SDKs do, so the boundaries are the same floats.
    cumulative = 0.0
    ranges: list[BucketRange] = []
    for weight in shares:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return tuple(ranges)


def choose_variation(n: float, ranges: Sequence[BucketRange]) -> int:
    """The first variation whose range holds ``n`` (``start <= n < end``), else -1.

    A zero-width range never matches.

    >>> choose_variation(0.5, [(0, 0.5), (0.5, 0.5), (0.5, 1)])
    2
    """
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1
