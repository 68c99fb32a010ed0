"""PSI per feature: known values by hand, binning rules, reports and profiles."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from firstmile.errors import ModelError
from firstmile.ml.drift import (
    EPSILON,
    drift_against,
    drift_level,
    drift_report,
    psi,
    reference_profile,
)

DECILES = np.arange(1000.0)  # reference bins: 0-99, 100-199, ..., 900-999


def by_hand(expected: list[float], actual: list[float]) -> float:
    return sum(
        (max(a, EPSILON) - max(e, EPSILON)) * math.log(max(a, EPSILON) / max(e, EPSILON))
        for e, a in zip(expected, actual, strict=True)
    )


def rows_per_decile(counts: list[int]) -> np.ndarray:
    """Recent rows: counts[i] values drawn from inside reference decile i."""
    return np.concatenate([np.linspace(100 * i, 100 * i + 99, n) for i, n in enumerate(counts)])


def test_identical_distributions_give_zero() -> None:
    assert psi(DECILES, DECILES) == 0.0
    rng = np.random.default_rng(0)
    same = psi(rng.normal(size=20_000), rng.normal(size=20_000))
    assert 0 <= same < 0.01


def test_a_known_shift_matches_the_hand_computed_value() -> None:
    counts = [150, 150, 150, 150, 100, 100, 50, 50, 50, 50]
    expected = by_hand([0.1] * 10, [c / 1000 for c in counts])
    # 4·0.05·ln 1.5 + 4·(-0.05)·ln 0.5
    assert expected == pytest.approx(0.2 * math.log(1.5) + 0.2 * math.log(2.0))
    assert psi(DECILES, rows_per_decile(counts)) == pytest.approx(expected, abs=1e-12)
    assert psi(DECILES, rows_per_decile(counts)) == pytest.approx(0.2197, abs=1e-4)


def test_an_empty_bin_is_floored_at_epsilon() -> None:
    # Everything moves up one decile: the bottom bin empties, the top one doubles.
    value = psi(DECILES, DECILES + 100)
    assert value == pytest.approx(
        (EPSILON - 0.1) * math.log(EPSILON / 0.1) + 0.1 * math.log(2.0), abs=1e-12
    )
    assert math.isfinite(psi(DECILES, np.full(10, 5000.0)))


def test_binary_columns_have_two_categories() -> None:
    reference = np.array([1.0] * 30 + [0.0] * 70)
    recent = np.array([1.0] * 50 + [0.0] * 50)
    assert psi(reference, recent) == pytest.approx(by_hand([0.7, 0.3], [0.5, 0.5]))
    profile = reference_profile(reference.reshape(-1, 1), ["device_type=mobile"])
    column = profile.columns[0]
    assert column.kind == "binary"
    assert column.edges == (0.5,)
    assert column.shares == pytest.approx((0.7, 0.3))


def test_repeated_quantiles_merge_into_one_bin_per_value() -> None:
    reference = np.array([0.0] * 800 + [1.0] * 100 + [2.0] * 50 + [5.0] * 50)
    column = reference_profile(reference.reshape(-1, 1), ["sessions"]).columns[0]
    assert column.kind == "numeric"
    # Deciles 1-8 are all 0 and the 9th is 1: bins (-inf, 0], (0, 1], (1, inf).
    assert column.edges == (0.0, 1.0)
    assert column.shares == pytest.approx((0.8, 0.1, 0.1))
    assert sum(column.shares) == pytest.approx(1.0)


def test_psi_is_roughly_symmetric_and_grows_with_the_shift() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=10_000), rng.normal(0.5, 1.0, size=10_000)
    forward, backward = psi(a, b), psi(b, a)
    assert forward > 0.1
    assert backward > 0.1
    assert forward == pytest.approx(backward, rel=0.25)
    shifts = [psi(a, rng.normal(shift, 1.0, size=10_000)) for shift in (0.1, 0.3, 0.6, 1.0)]
    assert shifts == sorted(shifts)


def test_drift_report_sorts_worst_first_and_flags_over_the_threshold() -> None:
    rng = np.random.default_rng(2)
    reference = np.column_stack(
        [rng.normal(size=5000), rng.normal(size=5000), rng.random(5000) < 0.3]
    )
    recent = np.column_stack(
        [rng.normal(size=3000), rng.normal(0.6, 1.0, size=3000), rng.random(3000) < 0.5]
    )
    report = drift_report(reference, recent, ["sessions", "days_active", "device_type=mobile"])
    assert [f.column for f in report.features] == ["days_active", "device_type=mobile", "sessions"]
    assert [f.psi for f in report.features] == sorted(
        (f.psi for f in report.features), reverse=True
    )
    assert report.flagged == ("days_active",)
    assert report.drifted
    assert report.max_psi == report.features[0].psi
    assert (report.reference_rows, report.recent_rows) == (5000, 3000)
    levels = {f.column: f.level for f in report.features}
    assert levels["sessions"] == "stable"
    assert levels["device_type=mobile"] == "moderate"
    assert report.features[1].kind == "binary"
    assert report.warnings == ()
    lower = drift_report(reference, recent, ["s", "d", "m"], threshold=0.05)
    assert lower.flagged == ("d", "m")
    payload = json.loads(json.dumps(report.to_json()))
    assert payload["flagged"] == ["days_active"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.threshold = 0.5  # type: ignore[misc]


def test_a_profile_carries_the_reference_without_the_matrix() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=(20_000, 20))
    recent = rng.normal(0.2, 1.0, size=(2000, 20))
    names = [f"f{j}" for j in range(20)]
    profile = reference_profile(reference, names)
    assert drift_against(profile, recent) == drift_report(reference, recent, names)
    blob = pickle.dumps(profile)
    assert len(blob) < 10_000 < reference.nbytes
    assert pickle.loads(blob) == profile
    assert json.dumps(profile.to_json())
    assert profile.names == tuple(names)


def test_few_recent_rows_carry_a_warning() -> None:
    report = drift_report(DECILES.reshape(-1, 1), DECILES[:50].reshape(-1, 1), ["x"])
    assert report.warnings
    assert "noisy" in report.warnings[0]


def test_drift_levels_follow_the_convention() -> None:
    assert [drift_level(v) for v in (0.0, 0.099, 0.1, 0.249, 0.25, 3.0)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "major",
        "major",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: psi([1.0, np.nan], [1.0]), "NaN"),
        (lambda: psi([], [1.0]), "no rows"),
        (lambda: psi([1.0, 2.0], [1.0], bins=1), "bins"),
        (lambda: psi(np.ones((3, 2)), [1.0]), "1-D"),
        (lambda: drift_report(np.ones((5, 2)), np.ones((5, 3)), ["a", "b"]), "3 columns"),
        (lambda: drift_report(np.ones((5, 2)), np.ones((5, 2)), ["a"]), "1 column names"),
        (lambda: drift_report(np.ones((5, 2)), np.ones((5, 2)), ["a", "a"]), "unique"),
        (lambda: drift_report(np.ones((5, 1)), np.ones((5, 1)), ["a"], -1.0), "threshold"),
        (lambda: drift_report(np.ones((5, 1)), [["x"]], ["a"]), "numbers"),
    ],
)
def test_bad_input_raises_model_error(call: object, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        call()  # type: ignore[operator]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(
    reference=hnp.arrays(np.float64, st.integers(1, 60), elements=finite),
    recent=hnp.arrays(np.float64, st.integers(1, 60), elements=finite),
    bins=st.integers(2, 12),
)
def test_psi_is_finite_and_non_negative(
    reference: np.ndarray, recent: np.ndarray, bins: int
) -> None:
    value = psi(reference, recent, bins=bins)
    assert math.isfinite(value)
    assert value >= -1e-12
