"""Interactions: the matrix, its keys, bad weights, and the temporal split."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.errors import ModelError
from firstmile.ml.recommend import build_interactions, filter_weights, temporal_split
from firstmile.ml.recommend.interactions import Triple


def test_repeated_pairs_sum_their_weights_and_keep_the_latest_time() -> None:
    data = build_interactions(
        [("bob", "b", 1.0, 5), ("ann", "a", 2.0, 3), ("bob", "b", 0.5, 9), ("bob", "a", 1, 1)],
        items=["z"],
    )
    assert data.user_keys == ("ann", "bob")
    assert data.item_keys == ("a", "b", "z")  # sorted; "z" has no interaction yet
    assert data.matrix.toarray().tolist() == [[2.0, 0.0, 0.0], [1.0, 1.5, 0.0]]
    assert data.times.toarray().tolist() == [[3.0, 0.0, 0.0], [1.0, 9.0, 0.0]]
    assert data.user_index["bob"] == 1
    assert data.item_index["z"] == 2
    assert data.n_interactions == 3


def test_the_order_of_the_triples_does_not_matter() -> None:
    triples: list[Triple] = [(f"u{n % 7}", f"i{n % 5}", 1.0 + n % 3, n) for n in range(60)]
    shuffled = triples[:]
    random.Random(4).shuffle(shuffled)
    one, two = build_interactions(triples), build_interactions(shuffled)
    assert (one.matrix != two.matrix).nnz == 0
    assert (one.times != two.times).nnz == 0


@pytest.mark.parametrize("weight", [math.nan, math.inf, -math.inf, -1.0, 0.0])
def test_weights_must_be_positive_and_finite(weight: float) -> None:
    with pytest.raises(ModelError, match="positive finite"):
        build_interactions([("ann", "a", 1.0), ("ann", "b", weight)])


def test_timestamps_must_be_finite() -> None:
    with pytest.raises(ModelError, match="Timestamps"):
        build_interactions([("ann", "a", 1.0, math.nan)])


def test_the_latest_fifth_of_each_user_is_held_out() -> None:
    triples: list[Triple] = [("ann", f"i{n}", 1.0, 100 - n) for n in range(10)]  # i9 is first
    triples += [("bob", f"i{n}", 1.0, n) for n in range(5)]
    triples += [("cid", "i0", 1.0, 0)]  # a single interaction stays in training
    data = build_interactions(triples)
    train, test = temporal_split(data)
    held = {
        user: sorted(data.item_keys[i] for i in test.matrix[data.user_index[user]].indices)
        for user in ("ann", "bob", "cid")
    }
    assert held == {"ann": ["i0", "i1"], "bob": ["i4"], "cid": []}
    assert (train.matrix + test.matrix != data.matrix).nnz == 0
    assert train.shape == test.shape == data.shape


def test_ties_in_time_go_by_item_key_and_no_timestamps_means_input_order() -> None:
    tied = build_interactions([("ann", k, 1.0, 7) for k in ("c", "a", "d", "b", "e")])
    _, test = temporal_split(tied)
    assert [tied.item_keys[i] for i in test.matrix[0].indices] == ["e"]
    ordered = build_interactions([("ann", k, 1.0) for k in ("c", "a", "d", "b", "e")])
    _, test = temporal_split(ordered, fraction=0.4)
    assert sorted(ordered.item_keys[i] for i in test.matrix[0].indices) == ["b", "e"]


def test_fraction_must_be_a_proper_fraction() -> None:
    data = build_interactions([("ann", "a", 1.0)])
    for fraction in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="fraction"):
            temporal_split(data, fraction)


def test_filter_weights_keeps_heavy_pairs() -> None:
    data = build_interactions([("ann", "a", 5.0), ("ann", "b", 2.0), ("bob", "a", 4.0)])
    assert filter_weights(data, 4).matrix.toarray().tolist() == [[5.0, 0.0], [4.0, 0.0]]


histories = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4"]),
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(histories, st.sampled_from([0.2, 0.5, 0.8]))
def test_split_partitions_each_user_and_holds_out_the_latest(
    rows: list[tuple[str, str, int]], fraction: float
) -> None:
    data = build_interactions([(u, i, 1.0, float(t)) for u, i, t in rows])
    train, test = temporal_split(data, fraction)
    assert (train.matrix + test.matrix != data.matrix).nnz == 0
    assert train.matrix.multiply(test.matrix).nnz == 0
    for user in range(data.shape[0]):
        n = data.matrix[user].nnz
        expected = max(0, min(n - 1, math.floor(n * fraction + 0.5)))
        assert test.matrix[user].nnz == expected
        if expected and train.matrix[user].nnz:
            assert np.max(train.times[user].data) <= np.min(test.times[user].data)
