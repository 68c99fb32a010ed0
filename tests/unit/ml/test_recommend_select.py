"""choose_recommender: measured on a validation split, refitted on everything, explained."""

from __future__ import annotations

import pickle

import pytest

from firstmile.errors import ModelError
from firstmile.ml.recommend import (
    EASE,
    Hybrid,
    ItemKNN,
    MostPopular,
    build_interactions,
    choose_recommender,
    default_candidates,
)
from firstmile.ml.recommend.interactions import Interactions, Triple


def sequences(users: int = 24, steps: int = 5, rating: float = 1.0) -> Interactions:
    """Each user walks a ring of 8 items from their own start: what comes next is learnable
    from the others, popularity is flat."""
    triples: list[Triple] = []
    for user in range(users):
        for step in range(steps):
            triples.append((f"u{user:02}", f"i{(user + step) % 8}", rating, step))
    return build_interactions(triples)


def test_the_best_measured_candidate_is_chosen_and_refitted_on_everything() -> None:
    data = sequences()
    selection = choose_recommender(data, [MostPopular(), EASE(l2=1.0)], k=2, blends=())
    names = [m.name for m in selection.table]
    assert names == ["popular", "ease(lambda=0.5)", "ease(lambda=1)", "ease(lambda=2)"]
    best = max(selection.table, key=lambda m: m.report.ndcg if m.report else -1.0)
    assert selection.name == best.name
    assert selection.name.startswith("ease")
    popular = selection.table[0].report
    assert popular is not None
    assert best.report is not None
    assert best.report.ndcg > popular.ndcg
    assert (selection.fitted.history != data.matrix).nnz == 0  # all of it, not the split
    text = selection.render()
    assert f"* {selection.name}" in text
    assert "NDCG@2" in text


def test_without_a_grid_only_the_candidates_are_measured() -> None:
    selection = choose_recommender(sequences(), [ItemKNN(neighbours=3)], k=2, grid=False)
    assert [m.name for m in selection.table] == ["item_knn(neighbours=3)"]


def test_the_two_best_families_are_also_measured_blended() -> None:
    selection = choose_recommender(
        sequences(), [ItemKNN(neighbours=3), EASE(l2=1.0)], k=2, grid=False, blends=(1.0,)
    )
    assert len(selection.table) == 3
    blend = selection.table[-1].name
    assert blend.startswith("hybrid(")
    assert blend.endswith("*1)")
    if selection.name == blend:
        assert isinstance(selection.recommender, Hybrid)


def test_default_candidates_double_with_a_relevance_threshold() -> None:
    assert len(default_candidates()) == 3
    doubled = [c.name for c in default_candidates(4.0)]
    assert len(doubled) == 6
    assert "ease(lambda=200, min_weight=4)" in doubled


def test_a_candidate_that_cannot_fit_is_reported_not_fatal() -> None:
    selection = choose_recommender(
        sequences(), [EASE(l2=1.0, max_items=3), MostPopular()], k=2, grid=False
    )
    failed = selection.table[0]
    assert failed.report is None
    assert failed.error is not None
    assert "max_items" in failed.error
    assert selection.name == "popular"
    assert "failed" in selection.render()


def test_too_little_history_to_validate_raises_model_error() -> None:
    one_each = build_interactions([(f"u{n}", f"i{n % 3}", 1.0) for n in range(10)])
    with pytest.raises(ModelError, match="held out"):
        choose_recommender(one_each)
    low = sequences(rating=2.0)
    with pytest.raises(ModelError, match="relevant"):
        choose_recommender(low, min_relevant_weight=4.0)


def test_nothing_fits_raises_model_error_with_each_reason() -> None:
    with pytest.raises(ModelError, match="max_items"):
        choose_recommender(sequences(), [EASE(max_items=2)], grid=False)


def test_the_selection_pickles() -> None:
    selection = choose_recommender(sequences(), [EASE(l2=1.0)], k=2, grid=False)
    again = pickle.loads(pickle.dumps(selection))
    assert again.fitted.recommend(0, 3) == selection.fitted.recommend(0, 3)
