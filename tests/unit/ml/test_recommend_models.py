"""Every recommender on planted structure, its reasons, its errors, and its pickles."""

from __future__ import annotations

import io
import pickle
from typing import Any

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.errors import ModelError
from firstmile.ml.recommend import (
    EASE,
    ContentRecommender,
    FittedRecommender,
    Hybrid,
    ItemKNN,
    MostPopular,
    ReasonKind,
    Recommender,
    standardise,
)

CLUSTER_A = range(6)  # analytics steps
CLUSTER_B = range(6, 12)  # collaboration steps
TEXTS = ["build a dashboard chart report"] * 6 + ["invite your team and share"] * 6
TAGS = [("analytics",)] * 6 + [("collaboration",)] * 6


def planted() -> np.ndarray[Any, Any]:
    """20 users take 4 of the 6 analytics steps, 10 take 4 of the 6 collaboration steps."""
    matrix = np.zeros((30, 12))
    for user in range(30):
        cluster = CLUSTER_A if user < 20 else CLUSTER_B
        for n in range(4):
            matrix[user, cluster[(user + n) % 6]] = 1.0
    return matrix


def models(n_items: int = 12) -> list[Recommender]:
    half = n_items // 2
    return [
        MostPopular(),
        ItemKNN(neighbours=5, shrinkage=1.0),
        EASE(l2=1.0),
        ContentRecommender(
            item_texts=TEXTS[:half] + TEXTS[6 : 6 + n_items - half],
            item_tags=TAGS[:half] + TAGS[6 : 6 + n_items - half],
        ),
        Hybrid(((EASE(l2=1.0), 1.0), (ItemKNN(neighbours=5), 0.5), (MostPopular(), 0.1))),
    ]


MODELS = models()
IDS = [m.name for m in MODELS]


def new_user(*items: int) -> np.ndarray[Any, Any]:
    row = np.zeros(12)
    row[list(items)] = 1.0
    return row


@pytest.mark.parametrize("model", MODELS[1:], ids=IDS[1:])
def test_a_user_gets_the_rest_of_their_cluster(model: Recommender) -> None:
    fitted = model.fit(planted())
    for seen, cluster in (((0, 1), CLUSTER_A), ((7, 8, 9), CLUSTER_B)):
        recs = fitted.recommend(new_user(*seen), 2)
        assert len(recs) == 2
        assert {r.item for r in recs} <= set(cluster) - set(seen)
        assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)


def test_popularity_ranks_by_users_and_within_groups() -> None:
    matrix = planted()
    matrix[:3, 11] = 1.0  # three analytics users also took the last collaboration step
    groups = ["analyst"] * 20 + ["team"] * 10
    fitted = MostPopular(user_groups=groups).fit(matrix)
    overall = fitted.recommend(new_user(), 6)
    assert {r.item for r in overall} == set(CLUSTER_A)
    assert all(r.reason.text() == "popular" for r in overall)
    team = fitted.recommend_for_group("team", 6)
    assert team[0].item == 11  # tied within the group, more popular overall
    assert {r.item for r in team} == set(CLUSTER_B)
    assert team[0].reason.text() == "popular in team"
    unknown = fitted.recommend_for_group("nobody", 2)
    assert [r.item for r in unknown] == [r.item for r in overall[:2]]
    assert fitted.scores(np.zeros((2, 12))).shape == (2, 12)


@pytest.mark.parametrize("model", [ItemKNN(neighbours=5), EASE(l2=1.0)], ids=["knn", "ease"])
def test_collaborative_reasons_name_the_item_that_contributed_most(model: Recommender) -> None:
    fitted = model.fit(planted())
    for rec in fitted.recommend(new_user(0, 1), 3):
        assert rec.reason.kind is ReasonKind.SIMILAR_TO_ITEM
        assert rec.reason.item in {0, 1}
        keys = tuple(f"step{i}" for i in range(12))
        assert rec.reason.text(keys) in {"similar to step0", "similar to step1"}


def test_content_reasons_name_a_term_and_interests_work_without_history() -> None:
    fitted = ContentRecommender(item_texts=TEXTS, item_tags=TAGS).fit(planted())
    recs = fitted.recommend(new_user(0), 2)
    assert recs[0].reason.kind is ReasonKind.MATCHES_INTERESTS
    assert recs[0].reason.detail in {"analytics", "build", "dashboard", "chart", "report"}
    by_tag = fitted.recommend_for_interests(["Collaboration"], 20)
    assert {r.item for r in by_tag} == set(CLUSTER_B)  # items sharing no term never show
    assert by_tag[0].reason.text() == "matches your interests: collaboration"
    by_words = fitted.recommend_for_interests(["my whole team"], 3, exclude=[6, 7])
    assert {r.item for r in by_words} <= {8, 9, 10, 11}
    assert fitted.recommend_for_interests(["astronomy"], 3) == []
    # Content needs no other users: one row is enough.
    assert ContentRecommender(item_texts=["a cat", "a dog"]).fit(np.zeros((1, 2))).terms


def test_a_hybrid_falls_back_on_popularity_for_an_empty_history() -> None:
    matrix = planted()
    model = Hybrid(((EASE(l2=1.0), 1.0), (MostPopular(), 0.2)))
    assert model.name == "hybrid(ease(lambda=1)*1 + popular*0.2)"
    fitted = model.fit(matrix)
    cold = fitted.recommend(new_user(), 3)
    assert {r.item for r in cold} <= set(CLUSTER_A)  # the bigger cluster is more popular
    assert all(r.reason.kind is ReasonKind.POPULAR for r in cold)
    warm = fitted.recommend(new_user(7, 8), 2)
    assert {r.item for r in warm} <= set(CLUSTER_B)
    assert all(r.reason.kind is ReasonKind.SIMILAR_TO_ITEM for r in warm)


def test_standardise_handles_flat_rows() -> None:
    out = standardise(np.array([[0.0, 0.0], [1.0, 3.0]]))
    assert out.tolist() == [[0.0, 0.0], [-1.0, 1.0]]


def test_min_weight_reads_only_heavy_interactions_but_excludes_all_seen() -> None:
    ratings = planted() * 5.0
    ratings[0, 6:9] = 2.0  # user 0 also saw three collaboration steps, and disliked them
    fitted = EASE(l2=1.0, min_weight=4).fit(ratings)
    recs = fitted.recommend(0, 2)
    assert {r.item for r in recs} == {4, 5}  # the rest of its cluster, not 6, 7 or 8
    assert fitted.recommend(0, 12)[-1].item not in {0, 1, 2, 3, 6, 7, 8}


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_pickles_and_joblib_dumps_round_trip(model: Recommender) -> None:
    fitted = model.fit(planted())
    expected = fitted.recommend(3, 4)
    assert pickle.loads(pickle.dumps(fitted)).recommend(3, 4) == expected
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    assert joblib.load(buffer).recommend(3, 4) == expected


@pytest.mark.parametrize("model", MODELS[1:3], ids=IDS[1:3])
def test_too_little_data_raises_model_error(model: Recommender) -> None:
    with pytest.raises(ModelError, match="at least 2 users"):
        model.fit(np.array([[1.0, 1.0, 0.0]]))
    with pytest.raises(ModelError, match="at least 2 distinct items"):
        model.fit(np.array([[1.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ModelError, match="NaN or infinity"):
        model.fit(np.array([[1.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ModelError, match="negative"):
        model.fit(np.array([[1.0, -1.0], [1.0, 1.0]]))


def test_more_errors_say_what_is_wrong() -> None:
    with pytest.raises(ModelError, match="at least 1 users"):
        MostPopular().fit(np.zeros((3, 3)))
    with pytest.raises(ModelError, match="signal"):
        EASE(min_weight=10).fit(planted())
    with pytest.raises(ModelError, match="max_items"):
        EASE(max_items=5).fit(planted())
    with pytest.raises(ModelError, match="one description"):
        ContentRecommender(item_texts=["just one"]).fit(planted())
    with pytest.raises(ModelError, match="words"):
        ContentRecommender(item_texts=["a", "the"]).fit(np.eye(2))
    fitted = EASE(l2=1.0).fit(planted())
    with pytest.raises(ModelError, match="outside the fitted history"):
        fitted.recommend(30, 3)
    with pytest.raises(ModelError, match="columns"):
        fitted.recommend(np.ones(5), 3)
    with pytest.raises(ModelError, match="NaN"):
        fitted.scores(np.full((1, 12), np.nan))
    with pytest.raises(ValueError, match="positive"):
        EASE(l2=0)
    with pytest.raises(ValueError, match="neighbours"):
        ItemKNN(neighbours=0)


def test_variants_are_a_small_grid_around_the_configuration() -> None:
    assert [m.name for m in EASE(l2=100).variants()] == [
        "ease(lambda=50)",
        "ease(lambda=100)",
        "ease(lambda=200)",
    ]
    assert [m.name for m in ItemKNN(neighbours=40, min_weight=4).variants()] == [
        "item_knn(neighbours=20, min_weight=4)",
        "item_knn(neighbours=40, min_weight=4)",
        "item_knn(neighbours=80, min_weight=4)",
    ]


matrices = st.lists(
    st.lists(st.sampled_from([0.0, 0.0, 1.0, 3.0]), min_size=8, max_size=8),
    min_size=4,
    max_size=7,
)


@settings(max_examples=40, deadline=None)
@given(
    matrices,
    st.sets(st.integers(0, 7), max_size=4),
    st.none() | st.sets(st.integers(0, 7), min_size=1),
    st.integers(0, 3),
    st.integers(0, 9),
)
def test_excluded_seen_and_disallowed_items_never_come_back(
    rows: list[list[float]], exclude: set[int], allowed: set[int] | None, user: int, k: int
) -> None:
    matrix = np.array(rows)
    matrix[0, 0] = matrix[1, 1] = 1.0  # at least two users and two items
    for model in models(8):
        fitted: FittedRecommender = model.fit(matrix)
        allowed_mask = None
        if allowed is not None:
            allowed_mask = np.zeros(8, dtype=bool)
            allowed_mask[list(allowed)] = True
        recs = fitted.recommend(user, k, exclude=exclude, allowed=allowed_mask)
        items = [r.item for r in recs]
        seen = set(np.flatnonzero(matrix[user]))
        possible = (allowed if allowed is not None else set(range(8))) - exclude - seen
        assert set(items) <= possible, model.name
        assert len(items) == len(set(items)) == min(k, len(possible)), model.name
        scores = [r.score for r in recs]
        assert scores == sorted(scores, reverse=True), model.name
        again = model.fit(matrix).recommend(user, k, exclude=exclude, allowed=allowed)
        assert again == recs, model.name  # deterministic, and indices work like masks
        everything = fitted.recommend(user, 8, exclude_seen=False)
        assert len(everything) == 8
