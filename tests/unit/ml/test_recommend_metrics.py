"""Ranking metrics: hand-computed values, bounds, perfect rankings, and evaluate()."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.ml.recommend import (
    RankingReport,
    average_precision_at_k,
    coverage,
    evaluate,
    evaluate_scores,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)
from firstmile.ml.recommend.base import FittedBase, top_k_rows

L2 = 1 / math.log2(3)  # discount of rank 2
L3 = 1 / math.log2(4)  # discount of rank 3


def test_one_hit_at_rank_two() -> None:
    ranked, relevant = [3, 1, 2], {1, 4}
    assert precision_at_k(ranked, relevant, 3) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, relevant, 3) == pytest.approx(1 / 2)
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx(L2 / (1 + L2))
    assert average_precision_at_k(ranked, relevant, 3) == pytest.approx((1 / 2) / 2)
    assert reciprocal_rank(ranked, relevant, 3) == pytest.approx(1 / 2)


def test_two_hits_at_ranks_one_and_three() -> None:
    ranked, relevant = [1, 3, 4], {1, 4}
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx((1 + L3) / (1 + L2))
    assert average_precision_at_k(ranked, relevant, 3) == pytest.approx((1 + 2 / 3) / 2)
    assert reciprocal_rank(ranked, relevant, 3) == 1.0


def test_more_relevant_than_k_normalises_by_k() -> None:
    # Ideal DCG and AP are over min(k, |relevant|) = 2, so a full top 2 scores 1.
    assert ndcg_at_k([1, 2], {1, 2, 3}, 2) == pytest.approx(1.0)
    assert average_precision_at_k([1, 2], {1, 2, 3}, 2) == pytest.approx(1.0)
    assert recall_at_k([1, 2], {1, 2, 3}, 2) == pytest.approx(2 / 3)
    assert precision_at_k([1, 2], {1, 2, 3}, 2) == 1.0


def test_only_the_top_k_counts() -> None:
    assert ndcg_at_k([5, 6, 1], {1}, 2) == 0.0
    assert reciprocal_rank([5, 6, 1], {1}, 2) == 0.0
    # A shorter list than k: the missing places are misses.
    assert precision_at_k([1], {1}, 4) == pytest.approx(0.25)
    assert ndcg_at_k([1], {1}, 4) == pytest.approx(1.0)


def test_nothing_relevant_scores_zero_and_k_must_be_positive() -> None:
    assert ndcg_at_k([1, 2], set(), 2) == 0.0
    assert recall_at_k([1, 2], set(), 2) == 0.0
    with pytest.raises(ValueError, match="k must be at least 1"):
        ndcg_at_k([1], {1}, 0)


def test_coverage() -> None:
    assert coverage([[0, 1], [1, 2]], 6) == pytest.approx(0.5)
    assert coverage([], 0) == 0.0


rankings = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.permutations(list(range(n))),
        st.sets(st.integers(0, n - 1), min_size=1),
        st.integers(1, n + 2),
    )
)


@settings(max_examples=80, deadline=None)
@given(rankings)
def test_metrics_lie_in_unit_interval(case: tuple[list[int], set[int], int]) -> None:
    ranked, relevant, k = case
    for metric in (
        precision_at_k,
        recall_at_k,
        ndcg_at_k,
        average_precision_at_k,
        reciprocal_rank,
    ):
        assert 0.0 <= metric(ranked, relevant, k) <= 1.0 + 1e-12


@settings(max_examples=80, deadline=None)
@given(rankings)
def test_relevant_first_is_perfect(case: tuple[list[int], set[int], int]) -> None:
    ranked, relevant, k = case
    perfect = sorted(relevant) + [i for i in ranked if i not in relevant]
    assert ndcg_at_k(perfect, relevant, k) == pytest.approx(1.0)
    assert average_precision_at_k(perfect, relevant, k) == pytest.approx(1.0)
    assert reciprocal_rank(perfect, relevant, k) == 1.0
    assert ndcg_at_k(ranked, relevant, k) <= ndcg_at_k(perfect, relevant, k) + 1e-12


def test_evaluate_a_perfect_and_a_useless_recommender() -> None:
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=float))
    truth = test.toarray()
    perfect = evaluate_scores(lambda users: truth[users], train, test, k=2)
    # User 1's second place goes to item 0 (a tie at 0, lowest index): all 4 items shown.
    assert perfect == RankingReport(2, 2, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0)
    useless = evaluate_scores(lambda users: -truth[users], train, test, k=1)
    assert useless.ndcg == useless.recall == useless.map == 0.0
    assert useless.users == 2  # user 2 has nothing relevant and is left out


def test_evaluate_excludes_seen_and_extra_items() -> None:
    train = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0]], dtype=float))
    extra = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[0, 0, 1], [1, 0, 0]], dtype=float))

    class Fixed(FittedBase):
        history = train

        def scores(self, user_rows: Any) -> Any:
            return np.tile([3.0, 2.0, 1.0], (user_rows.shape[0], 1))

    # User 0 saw item 0 and item 1 is excluded: item 2 comes first. User 1: item 0.
    report = evaluate(Fixed(), train, test, k=1, exclude=extra)
    assert report.precision == 1.0
    assert report.ndcg == 1.0


def test_batches_do_not_change_the_report() -> None:
    rng = np.random.default_rng(3)
    train = sp.csr_matrix((rng.random((40, 15)) < 0.2).astype(float))
    test = sp.csr_matrix((rng.random((40, 15)) < 0.2).astype(float))
    scores = rng.random((40, 15))
    whole = evaluate_scores(lambda u: scores[u], train, test, k=5)
    pieces = evaluate_scores(lambda u: scores[u], train, test, k=5, batch_size=3)
    assert whole.ndcg == pytest.approx(pieces.ndcg)
    assert whole.map == pytest.approx(pieces.map)
    assert whole.coverage == pieces.coverage


CELLS = st.sampled_from([0.0, 1.0, 2.0, -np.inf])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda rows: st.integers(1, 9).flatmap(
            lambda cols: st.tuples(
                st.lists(
                    st.lists(
                        st.sampled_from([0.0, 1.0, 2.0, -np.inf]), min_size=cols, max_size=cols
                    ),
                    min_size=rows,
                    max_size=rows,
                ),
                st.integers(1, cols + 1),
            )
        )
    )
)
def test_batch_top_k_is_a_stable_sort(case: tuple[list[list[float]], int]) -> None:
    scores, k = np.array(case[0]), case[1]
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    assert (top_k_rows(scores, k) == expected).all()
