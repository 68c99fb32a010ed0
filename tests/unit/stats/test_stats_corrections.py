"""SRM against scipy.stats.chisquare; Holm and BH against statsmodels.multipletests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from firstmile.stats import benjamini_hochberg, holm, sample_ratio_mismatch


@pytest.mark.parametrize(
    ("counts", "weights"),
    [
        ([5000, 5200], None),
        ([5000, 5000], None),
        ([1000, 2100, 950], [1, 2, 1]),
        ([812, 3190], [0.2, 0.8]),
        ([10, 0], None),
    ],
)
def test_srm_matches_scipy_chisquare(counts: list[int], weights: list[float] | None) -> None:
    result = sample_ratio_mismatch(counts, weights)
    shares = np.ones(len(counts)) if weights is None else np.asarray(weights, dtype=float)
    expected = sum(counts) * shares / shares.sum()
    reference = stats.chisquare(counts, expected)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)
    assert result.expected == pytest.approx(tuple(expected), rel=1e-12)
    assert result.df == len(counts) - 1


def test_srm_flags_a_broken_split() -> None:
    assert sample_ratio_mismatch([5000, 5400]).mismatch is True
    assert sample_ratio_mismatch([5000, 5050]).mismatch is False
    assert sample_ratio_mismatch([5000, 5400], threshold=1e-6).mismatch is False


def test_srm_without_users_is_undecided() -> None:
    result = sample_ratio_mismatch([0, 0])
    assert (result.statistic, result.p_value, result.mismatch) == (None, None, None)
    assert result.warnings == ("no users assigned yet: nothing to check",)


def test_srm_warns_when_expected_counts_are_small() -> None:
    assert sample_ratio_mismatch([3, 1]).warnings == (
        "an expected count is below 5: the chi-square approximation is rough",
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("ours", "theirs"), [(holm, "holm"), (benjamini_hochberg, "fdr_bh")])
def test_adjustments_match_statsmodels(seed: int, ours: object, theirs: str) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 25))
    p_values = np.concatenate([rng.uniform(0, 0.05, m // 3), rng.uniform(0, 1, m - m // 3)])
    if seed % 2:
        p_values[: m // 2] = p_values[0]  # ties
    rng.shuffle(p_values)
    reject, adjusted, _, _ = multipletests(p_values, alpha=0.05, method=theirs)
    result = ours(list(p_values))  # type: ignore[operator]
    assert result.adjusted == pytest.approx(tuple(adjusted), rel=1e-12, abs=1e-15)
    assert result.reject == tuple(bool(r) for r in reject)


def test_missing_p_values_are_left_out_of_the_family() -> None:
    result = holm([0.01, None, 0.04])
    assert result.adjusted == (0.02, None, 0.04)
    assert result.reject == (True, False, True)
    assert result.warnings == ("1 missing p-value(s) left out of the family",)
    assert benjamini_hochberg([]).adjusted == ()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: holm([0.5, 1.2]), r"in \[0, 1\]"),
        (lambda: holm([float("nan")]), r"in \[0, 1\]"),
        (lambda: benjamini_hochberg([0.1], alpha=1.0), "alpha"),
        (lambda: sample_ratio_mismatch([5]), "at least 2 variants"),
        (lambda: sample_ratio_mismatch([5, -1]), "non-negative integers"),
        (lambda: sample_ratio_mismatch([5, 5], [1, 0]), "positive numbers"),
        (lambda: sample_ratio_mismatch([5, 5], [1, 1, 1]), "3 weights for 2 variants"),
        (lambda: sample_ratio_mismatch([5, 5], threshold=0), "threshold"),
    ],
)
def test_invalid_arguments_raise(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
