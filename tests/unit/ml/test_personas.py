# ruff: noqa: N806 - X is the feature matrix, as scikit-learn names it
"""Personas: planted clusters are found, named for their difference, and assigned alike."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from firstmile.errors import ModelError
from firstmile.ml.personas import (
    FIT_SAMPLE,
    MINIBATCH_FROM,
    OUTLIER_KEY,
    Distinction,
    PersonaModel,
    fit_personas,
    slugify,
)
from firstmile.ml.personas.naming import name_personas

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def planted(k: int, *, per: int = 100, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k spherical blobs (sd 1) whose centres are 8 apart along different axes."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((k, d))
    for i in range(k):
        centres[i, i % d] = 8.0 * (1 + i // d)
    X = np.vstack([rng.normal(centre, 1.0, size=(per, d)) for centre in centres])
    return X, np.repeat(np.arange(k), per)


def columns(d: int) -> list[str]:
    return [f"f{j}" for j in range(d)]


def onboarding_users(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Three planted personas on readable columns: (X standardised, raw, columns, truth).

    * mobile newcomers: all mobile, about 1.2 sessions, 3 active days;
    * power users: desktop, about 8 sessions, 10 active days;
    * steady users: desktop, about 3.5 sessions, 20 active days.
    """
    rng = np.random.default_rng(seed)
    names = ["sessions", "days_active", "device_type=mobile", "device_type=desktop"]

    def group(n: int, sessions: float, days: float, mobile: bool) -> np.ndarray:
        return np.column_stack(
            [
                rng.normal(sessions, 0.4, n),
                rng.normal(days, 1.0, n),
                np.full(n, float(mobile)),
                np.full(n, float(not mobile)),
            ]
        )

    raw = np.vstack(
        [group(150, 1.2, 3, True), group(150, 8.0, 10, False), group(150, 3.5, 20, False)]
    )
    X = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    return X, raw, names, np.repeat([0, 1, 2], 150)


@cache
def fitted(algorithm: str = "kmeans") -> tuple[PersonaModel, np.ndarray, np.ndarray]:
    X, y = planted(3, d=3, seed=4)
    if algorithm == "dbscan":
        X = np.vstack([X, [[30.0, 30.0, 30.0], [-25.0, 20.0, -30.0]]])
        y = np.concatenate([y, [-1, -1]])
    model = fit_personas(X, columns(3), algorithm=algorithm, seed=0)  # type: ignore[arg-type]
    return model, X, y


# -- finding the clusters ------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_kmeans_recovers_planted_blobs_with_k_chosen_by_silhouette(k: int) -> None:
    X, truth = planted(k, seed=k)
    model = fit_personas(X, columns(5), seed=1)
    report = model.report
    assert report.k == k
    assert report.k_selection == "silhouette"
    assert report.estimator == "KMeans"
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.95
    # The silhouette of the planted k is the best of the range, and the elbow is there:
    # adding the last planted cluster cuts the inertia far more than the next one does.
    by_k = {c.k: c for c in report.candidates}
    assert sorted(by_k) == list(range(2, 9))
    assert max(by_k.values(), key=lambda c: c.silhouette or -1).k == k
    assert report.silhouette == by_k[k].silhouette
    if k > 2:
        assert by_k[k - 1].inertia - by_k[k].inertia > 5 * (by_k[k].inertia - by_k[k + 1].inertia)
    assert sum(p.size for p in model.personas) == len(X)
    assert sum(p.share for p in model.personas) == pytest.approx(1.0)


def test_stability_is_high_on_clear_blobs_and_lower_on_uniform_noise() -> None:
    X, _ = planted(4, seed=2)
    clear = fit_personas(X, columns(5), seed=0).report.stability
    noise = fit_personas(np.random.default_rng(3).uniform(size=(500, 6)), columns(6), seed=0)
    assert len(clear.seed_ari) == len(clear.bootstrap_ari) == 4
    assert clear.min_ari is not None
    assert clear.min_ari >= 0.95
    unstable = noise.report.stability
    assert unstable.mean_ari is not None
    assert unstable.mean_ari < 0.8
    assert unstable.mean_ari < clear.min_ari
    assert any("below 0.25" in w for w in noise.report.warnings)


def test_given_k_skips_the_search() -> None:
    X, truth = planted(3, seed=5)
    model = fit_personas(X, columns(5), k=3, stability_runs=0)
    assert model.report.k_selection == "given"
    assert [c.k for c in model.report.candidates] == [3]
    assert model.report.stability.mean_ari is None
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.95


def test_large_populations_use_minibatch_kmeans() -> None:
    X, truth = planted(3, per=MINIBATCH_FROM // 3 + 200, d=3, seed=6)
    model = fit_personas(X, columns(3), k=3, stability_runs=0)
    assert model.report.estimator == "MiniBatchKMeans"
    assert model.report.silhouette_sample == 5000
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.95


def test_agglomerative_ward_recovers_blobs_and_is_deterministic() -> None:
    X, truth = planted(4, seed=7)
    model = fit_personas(X, columns(5), algorithm="agglomerative")
    assert model.report.k == 4
    assert model.report.estimator == "AgglomerativeClustering(ward)"
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.95
    # Ward on every row has no randomness: only the bootstrap measures stability.
    assert model.report.stability.seed_ari == ()
    assert min(model.report.stability.bootstrap_ari) >= 0.95


def test_agglomerative_fits_a_sample_of_large_populations() -> None:
    X, truth = planted(3, per=2100, d=3, seed=8)
    model = fit_personas(X, columns(3), algorithm="agglomerative", k=3, stability_runs=0)
    assert model.report.fit_rows == FIT_SAMPLE < len(X)
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.95


def test_dbscan_finds_the_blobs_and_leaves_far_rows_unassigned() -> None:
    model, X, truth = fitted("dbscan")
    report = model.report
    assert report.k == 3
    assert report.k_selection == "density"
    assert report.eps is not None
    assert report.eps > 0
    assert model.outlier is not None
    assert model.outlier.key == OUTLIER_KEY
    assert model.outlier.size >= 2
    assert report.outlier_share == pytest.approx(model.outlier.size / len(X))
    keys = model.assign(X)
    assert list(keys[-2:]) == [OUTLIER_KEY, OUTLIER_KEY]
    kept = keys != OUTLIER_KEY
    assert kept.mean() > 0.95
    assert adjusted_rand_score(truth[kept], keys[kept]) >= 0.95
    assert model.assign_one(np.array([50.0, -50.0, 50.0]))[0] == OUTLIER_KEY
    assert OUTLIER_KEY in model.keys
    assert len(set(model.keys)) == 4


def test_dbscan_with_a_given_eps_and_one_that_finds_nothing() -> None:
    X, truth = planted(3, d=3, seed=9)
    model = fit_personas(X, columns(3), algorithm="dbscan", eps=2.0, min_samples=5)
    assert model.report.eps == 2.0
    assert model.report.min_samples == 5
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.9
    with pytest.raises(ModelError, match="every row is noise"):
        fit_personas(X, columns(3), algorithm="dbscan", eps=1e-6)


# -- names ---------------------------------------------------------------------------


def test_names_describe_the_planted_difference_in_raw_units() -> None:
    X, raw, names, truth = onboarding_users()
    model = fit_personas(X, names, raw=raw, seed=0)
    assert model.report.k == 3
    assert adjusted_rand_score(truth, model.assign(X)) >= 0.95
    by_group = {
        int(np.bincount(truth[model.assign(X) == p.key]).argmax()): p for p in model.personas
    }
    mobile, power, steady = by_group[0], by_group[1], by_group[2]
    assert mobile.name.startswith("mobile")
    assert "desktop" not in mobile.name  # "mobile" already says it
    assert "low days_active" in mobile.name
    assert "high sessions" in power.name
    assert "high days_active" in steady.name
    assert "100% mobile vs 33% overall" in mobile.description
    assert re.search(r"\b8\.\d+ sessions vs 4\.\d+ overall", power.description)
    assert power.description.startswith("150 users (33%): ")
    assert power.distinctions[0].column == "sessions"
    assert power.distinctions[0].z > 1.0


def test_without_raw_descriptions_use_standard_deviations() -> None:
    X, _, names, _ = onboarding_users()
    model = fit_personas(X, names, seed=0, stability_runs=0)
    power = next(p for p in model.personas if "high sessions" in p.name)
    assert re.search(r"sessions \+1\.\d sd from the average", power.description)
    # One-hot columns still read as shares: two standardised values are 0 and 1.
    mobile = next(p for p in model.personas if p.name.startswith("mobile"))
    assert "100% mobile vs 33% overall" in mobile.description


def test_slugs_are_unique_valid_and_short() -> None:
    for k in (2, 5):
        X, _ = planted(k, seed=10 + k)
        model = fit_personas(X, columns(5), seed=0, stability_runs=0)
        keys = [p.key for p in model.personas]
        assert len(set(keys)) == len(keys)
        assert len({p.name for p in model.personas}) == len(keys)
        for key in keys:
            assert SLUG.match(key), key
            assert len(key) <= 40, key


def test_slugify() -> None:
    assert slugify("mobile · low sessions") == "mobile-low-sessions"
    long = slugify("high pages_per_session · high days_active · country=DE")
    assert long == "high-pages-per-session-high-days-active"
    assert len(long) <= 40
    assert SLUG.match(long)
    assert slugify("✓✓") == "persona"
    assert len(slugify("x" * 100)) == 40


def d(column: str, z: float, kind: str = "numeric") -> Distinction:
    return Distinction(column, kind, z, 0.0, 0.0)  # type: ignore[arg-type]


def test_clashing_names_take_a_further_column_then_a_suffix() -> None:
    ranked = [
        [d("sessions", 2.0), d("age", 0.3), d("plan=pro", 0.1, "binary")],
        [d("sessions", 1.8), d("age", -0.2), d("plan=pro", 0.1, "binary")],
        [d("sessions", 1.5), d("age", -0.2), d("plan=pro", 0.1, "binary")],
        [d("sessions", 1.5), d("age", -0.2), d("plan=pro", 0.1, "binary")],
    ]
    personas, outlier = name_personas(ranked, [10, 10, 10, 10], scaled=True, with_outliers=None)
    names = [p.name for p in personas]
    assert names[0] == "high sessions · high age"
    # The other three differ in no column: a suffix tells them apart.
    assert names[1:] == [f"high sessions · low age · pro ({i})" for i in (1, 2, 3)]
    keys = [p.key for p in personas]
    assert len(set(keys)) == 4
    assert all(SLUG.match(k) for k in keys)
    assert outlier is None


def test_terms_for_flags_and_negatives() -> None:
    ranked = [[d("is_paid", 1.2, "binary"), d("has_team=false", 0.9, "binary")]]
    personas, _ = name_personas(ranked, [5], scaled=False, with_outliers=None)
    assert personas[0].name == "is_paid · not has_team"
    typical, _ = name_personas([[d("age", 0.1)]], [5], scaled=False, with_outliers=None)
    assert typical[0].name == "typical"


# -- serving -------------------------------------------------------------------------


rows = st.lists(
    st.floats(min_value=-40, max_value=40, allow_nan=False), min_size=3, max_size=3
).map(np.array)


@settings(max_examples=60, deadline=None)
@given(
    batch=st.lists(rows, min_size=1, max_size=20), algorithm=st.sampled_from(["kmeans", "dbscan"])
)
def test_assign_one_equals_assign(batch: list[np.ndarray], algorithm: str) -> None:
    model, _, _ = fitted(algorithm)
    keys = model.assign(np.vstack(batch))
    for row, key in zip(batch, keys, strict=True):
        one, distance = model.assign_one(row)
        assert one == key
        assert distance >= 0


def test_assign_one_returns_the_distance_to_the_nearest_centre() -> None:
    model, _, _ = fitted()
    centre = model.centres[1]
    key, distance = model.assign_one(centre + np.array([0.3, 0.4, 0.0]))
    assert key == model.personas[1].key
    assert distance == pytest.approx(0.5)


def test_pickle_round_trip_and_json() -> None:
    model, X, _ = fitted("dbscan")
    copy = pickle.loads(pickle.dumps(model))
    assert copy.personas == model.personas
    assert copy.report == model.report
    assert copy.outlier == model.outlier
    assert list(copy.assign(X)) == list(model.assign(X))
    text = json.dumps(model.to_json())
    assert json.loads(text)["report"]["k"] == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.report.k = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        model.centres[0, 0] = 1.0


def test_seeded_fits_are_deterministic_and_inputs_untouched() -> None:
    X, _ = planted(3, seed=11)
    before = X.copy()
    first = fit_personas(X, columns(5), seed=3)
    second = fit_personas(X, columns(5), seed=3)
    assert first.report.to_json() == second.report.to_json()
    assert first.personas == second.personas
    np.testing.assert_array_equal(X, before)


# -- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X": np.zeros((9, 2)) + np.arange(9)[:, None], "k": 2}, "at least 10 are needed"),
        ({"X": np.arange(30.0).reshape(15, 2)}, "at least 16"),
        ({"X": np.ones((40, 2))}, "Every column is constant"),
        ({"X": np.array([[np.nan, 1.0]] + [[float(i), 1.0] for i in range(39)])}, "NaN"),
        (
            {"X": np.array([[np.inf, 1.0]] + [[float(i), 1.0] for i in range(39)])},
            "NaN or infinite",
        ),
        ({"k": 1}, "k must be an integer of at least 2"),
        ({"k_range": (1, 3)}, "2 <= low <= high"),
        ({"k_range": (5, 3)}, "2 <= low <= high"),
        ({"k": 30}, "at least 60"),
        ({"columns": ["a"]}, "1 column names for a matrix of 2 columns"),
        ({"columns": ["a", "a"]}, "unique"),
        ({"algorithm": "spectral"}, "Unknown algorithm"),
        ({"raw": np.ones((3, 2))}, "raw has shape"),
        ({"seed": -1}, "seed"),
        ({"X": np.arange(40.0)}, "2-D"),
    ],
)
def test_bad_input_raises_model_error(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"X": np.random.default_rng(0).normal(size=(40, 2))}
    arguments["columns"] = ["a", "b"]
    arguments.update(change)
    with pytest.raises(ModelError, match=re.escape(message)):
        fit_personas(**arguments)  # type: ignore[arg-type]


def test_k_above_the_distinct_rows_is_refused() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 0.0]]), 10, axis=0)
    with pytest.raises(ModelError, match="only 3 distinct rows"):
        fit_personas(X, ["a", "b"], k=4)
    # The search range is clipped to the distinct rows instead.
    assert fit_personas(X, ["a", "b"], stability_runs=0).report.k == 3


def test_assign_rejects_malformed_rows() -> None:
    model, _, _ = fitted()
    with pytest.raises(ModelError, match="one row of 3 features"):
        model.assign_one(np.zeros(4))
    with pytest.raises(ModelError, match="NaN"):
        model.assign_one(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ModelError, match="3 columns"):
        model.assign(np.zeros((2, 2)))


def test_k_is_the_smallest_within_a_hundredth_or_two_of_the_best_silhouette() -> None:
    from firstmile.ml.personas.fit import _best
    from firstmile.ml.personas.model import KCandidate

    def scored(*values: float | None) -> list[KCandidate]:
        return [KCandidate(k, v, 1.0) for k, v in enumerate(values, start=2)]

    assert _best(scored(0.40, 0.51, 0.52)) == 1  # 0.51 is as good as 0.52: fewer personas
    assert _best(scored(0.40, 0.45, 0.52)) == 2
    assert _best(scored(None, 0.30, None)) == 1
    assert _best(scored(None, None)) == 0
