"""Hashing and bucket ranges: GrowthBook's functions, checked beyond its conformance cases."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.experiments import (
    choose_variation,
    fnv1a32,
    get_bucket_ranges,
    get_equal_weights,
    hash,
    in_namespace,
)
from firstmile.experiments.buckets import usable_weights
from firstmile.experiments.identity import hash_identity, hashable_string

growthbook_core = pytest.importorskip("growthbook.core")


def _fnv_over_utf16(text: str) -> int:
    """An independent oracle: FNV-1a over the UTF-16 code units of the text."""
    data = text.encode("utf-16-le", "surrogatepass")
    h = 0x811C9DC5
    for (unit,) in struct.iter_unpack("<H", data):
        h = ((h ^ unit) * 0x01000193) % 2**32
    return h


@given(st.text())
def test_fnv1a32_hashes_utf16_code_units(text: str) -> None:
    assert fnv1a32(text) == _fnv_over_utf16(text)


def test_characters_outside_the_bmp_hash_as_surrogate_pairs() -> None:
    assert fnv1a32("\U0001f600") == fnv1a32(chr(0xD83D) + chr(0xDE00))
    assert fnv1a32("\U0001f600") != fnv1a32(chr(0x1F600 & 0xFFFF))


@given(st.text(max_size=30), st.text(max_size=30), st.sampled_from([1, 2, 0, 3, -1]))
def test_hash_equals_the_growthbook_sdk(seed: str, value: str, version: int) -> None:
    assert hash(seed, value, version) == growthbook_core.gbhash(seed, value, version)


@given(st.text(max_size=30), st.text(min_size=1, max_size=30))
def test_hash_versions_have_1000_and_10000_buckets(seed: str, value: str) -> None:
    v1, v2 = hash(seed, value, 1), hash(seed, value, 2)
    assert v1 is not None
    assert v2 is not None
    assert 0 <= v1 < 1
    assert 0 <= v2 < 1
    assert round(v1 * 1000) / 1000 == v1
    assert round(v2 * 10000) / 10000 == v2


def test_pinned_hashes_never_change() -> None:
    # Changing any of these reassigns every user of every running experiment.
    users = [f"u{i}" for i in range(1, 5)]
    assert [hash("welcome-tour", user, 2) for user in users] == [0.2552, 0.2379, 0.0066, 0.9184]
    assert [hash("welcome-tour", user, 1) for user in users] == [0.742, 0.675, 0.52, 0.437]


weights_strategy = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6).filter(
    lambda parts: sum(parts) > 0
)


def _normalized(parts: list[int]) -> list[float]:
    return [part / sum(parts) for part in parts]


@given(weights_strategy, st.floats(0, 1), st.floats(0, 1))
def test_raising_coverage_only_widens_each_range(parts: list[int], low: float, high: float) -> None:
    low, high = min(low, high), max(low, high)
    weights = _normalized(parts)
    narrow = get_bucket_ranges(len(weights), low, weights)
    wide = get_bucket_ranges(len(weights), high, weights)
    for (start, end), (wide_start, wide_end) in zip(narrow, wide, strict=True):
        assert start == wide_start
        assert end <= wide_end


@given(
    weights_strategy,
    st.floats(-0.5, 1.5, allow_nan=False),
    st.floats(0, 1, exclude_max=True),
)
def test_ranges_and_choice_equal_the_growthbook_sdk(
    parts: list[int], coverage: float, n: float
) -> None:
    weights = _normalized(parts)
    ours = get_bucket_ranges(len(weights), coverage, weights)
    theirs = growthbook_core.getBucketRanges(len(weights), coverage, weights)
    assert list(ours) == theirs
    assert choose_variation(n, ours) == growthbook_core.chooseVariation(n, theirs)


@pytest.mark.parametrize(
    ("weights", "usable"),
    [
        ([0.5, 0.5], True),
        ([0.995, 0.0], True),
        ([0.5, 0.4], False),
        ([1.2, -0.2], False),
        ([math.nan, 1.0], False),
        ([True, False], False),
        ([1.0], False),
    ],
)
def test_unusable_weights_fall_back_to_equal_ones(weights: list[float], usable: bool) -> None:
    assert usable_weights(2, weights) is usable
    if not usable:
        assert get_bucket_ranges(2, 1.0, weights) == ((0.0, 0.5), (0.5, 1.0))


def test_equal_weights_sum_to_one() -> None:
    for count in range(1, 30):
        assert math.isclose(sum(get_equal_weights(count)), 1.0)


def test_namespaces_split_users_by_their_own_hash() -> None:
    users = [f"user-{i}" for i in range(2000)]
    first = {user for user in users if in_namespace(user, ("onboarding", 0.0, 0.5))}
    second = {user for user in users if in_namespace(user, ("onboarding", 0.5, 1.0))}
    assert not first & second
    assert first | second == set(users)
    assert 0.45 < len(first) / len(users) < 0.55


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("u1", "u1"),
        ("", None),
        (42, "42"),
        (-7, "-7"),
        (1.5, "1.5"),
        (3.0, "3"),
        (1e21, "1e+21"),
        (2**64, "18446744073709552000"),
        (0, None),
        (0.0, None),
        (math.nan, None),
        (math.inf, None),
        (True, None),
        (None, None),
        (["u1"], None),
        ({"id": "u1"}, None),
    ],
)
def test_hash_values_are_what_javascript_string_gives(value: object, expected: str | None) -> None:
    assert hashable_string(value) == expected
    if expected is not None:
        assert hash_identity({"id": value}, "id", None) == ("id", expected)
    else:
        assert hash_identity({"id": value}, "id", None) is None
