"""Fast paths inside the operators: $all of strings, $in on lists, $elemMatch, regex memo,
version keys and the timestamp cache. Each must answer what the general code answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.conditions import evaluate, regex
from firstmile.conditions.jsvalues import code_unit_less
from firstmile.conditions.regex import compile_js_regex
from firstmile.conditions.timestamps import text_seconds, timestamp_seconds
from firstmile.conditions.versions import padded_version, text_version_key, version_key

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["a", "b", "c"], True),
        (["b", "a"], True),
        (["a"], False),
        ([], False),
        (["a", "b", 10], True),  # not all strings: the general path
        (["a", 10], False),
        ("a,b", False),  # not a list
        (None, False),
    ],
)
def test_all_of_strings(tags: Any, expected: bool) -> None:
    assert evaluate({"tags": {"$all": ["a", "b"]}}, {"tags": tags}) is expected


@pytest.mark.parametrize(
    ("tags", "expected"),
    [(["a", 10], True), (["a", [10]], True), (["a", 10.0], True), (["a", None], False)],
)
def test_all_of_strings_coerces_other_items(tags: Any, expected: bool) -> None:
    # A string literal matches an item once written as text: 10 and [10] are "10".
    assert evaluate({"tags": {"$all": ["a", "10"]}}, {"tags": tags}) is expected


def test_all_with_an_empty_list_matches_any_list() -> None:
    assert evaluate({"tags": {"$all": []}}, {"tags": []}) is True
    assert evaluate({"tags": {"$all": []}}, {"tags": [1, "x"]}) is True
    assert evaluate({"tags": {"$all": []}}, {"tags": "x"}) is False


texts = st.text(alphabet="ab1", max_size=2)
items = st.none() | st.booleans() | st.integers(0, 12) | texts | st.lists(texts, max_size=2)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=3), st.lists(items, max_size=4) | items)
def test_all_of_strings_agrees_with_the_general_path(wanted: list[str], value: Any) -> None:
    # With an operator object among the wanted items, $all takes the general path.
    fast = evaluate({"t": {"$all": wanted}}, {"t": value})
    slow = evaluate({"t": {"$all": [{"$not": {"$not": text}} for text in wanted]}}, {"t": value})
    assert fast is slow


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | st.booleans() | st.integers(-2, 2) | texts, max_size=4), items)
def test_in_on_lists_agrees_with_each_item(wanted: list[Any], value: Any) -> None:
    found = evaluate({"t": {"$in": wanted}}, {"t": value})
    if isinstance(value, list):
        assert found is any(evaluate({"t": {"$in": wanted}}, {"t": item}) for item in value)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"sku": "a", "qty": 2}], True),
        ([{"sku": "a", "qty": 1}, {"sku": "a", "qty": 3}], True),
        ([{"sku": "b", "qty": 5}], False),
        ([None, 0, "", False, {"sku": "a", "qty": 2}], True),  # falsy items are skipped
        ([], False),
        ({"sku": "a", "qty": 2}, False),  # not a list
    ],
)
def test_elem_match_on_objects(items: Any, expected: bool) -> None:
    condition = {"items": {"$elemMatch": {"sku": "a", "qty": {"$gt": 1}}}}
    assert evaluate(condition, {"items": items}) is expected


def test_elem_match_skips_falsy_items_before_testing_them() -> None:
    # {"$exists": false} would match null, but null items are skipped, as in GrowthBook.
    assert evaluate({"l": {"$elemMatch": {"$exists": False}}}, {"l": [None, 0]}) is False
    assert evaluate({"l": {"$elemMatch": {"$lt": 1}}}, {"l": [0, ""]}) is False
    assert evaluate({"l": {"$elemMatch": {"$lt": 1}}}, {"l": [0, -1]}) is True


def test_regex_answers_are_remembered_and_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regex, "MEMO_ENTRIES", 3)
    test = compile_js_regex("^a.c$", ignore_case=False)
    texts = ["abc", "abd", "a\nc", "axc", "abc", "abd", "AXC", "abc"] * 3
    assert [test(t) for t in texts] == [t in ("abc", "axc") for t in texts]
    long = "a" + "b" * (regex.MEMO_TEXT_LENGTH + 10) + "c"
    assert test(long) is False
    assert compile_js_regex("^ab+c$", ignore_case=False)(long) is True
    assert test(long) is False


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="0123456789.-v+rcé\U0001f600", max_size=8),
    st.text(alphabet="0123456789.-v+rcé\U0001f600", max_size=8),
)
def test_version_keys_order_as_padded_versions(left: str, right: str) -> None:
    a, b = padded_version(left), padded_version(right)
    assert (text_version_key(left) < text_version_key(right)) is code_unit_less(a, b)
    assert (text_version_key(left) == text_version_key(right)) is (a == b)


@pytest.mark.parametrize("value", [None, "", True, [], {}, 0, 2, 1.5, "0", "v1.2"])
def test_version_keys_of_any_value(value: Any) -> None:
    assert version_key(value).decode("utf-16-be") == padded_version(value)


@pytest.mark.parametrize(
    "text", ["2026-11-20T09:30:00Z", "2026-11-20", "2026-11-20T09:30:00+02:00", "x", ""]
)
def test_cached_text_timestamps(text: str) -> None:
    first = text_seconds(text)
    assert text_seconds(text) == first == timestamp_seconds(text)
    if first is not None:
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        assert first == moment.timestamp()


def test_relative_time_on_every_kind_of_timestamp() -> None:
    yesterday = NOW.timestamp() - 86_400
    readable: list[Any] = [
        "2026-11-24T12:00:00Z",
        datetime(2026, 11, 24, 12, tzinfo=UTC),
        yesterday,
    ]
    for value in readable:
        assert evaluate({"t": {"$within": "2d"}}, {"t": value}, now=NOW) is True
        assert evaluate({"t": {"$olderThan": "2d"}}, {"t": value}, now=NOW) is False
    unreadable: list[Any] = [None, "soon", [], True]
    for value in unreadable:
        assert evaluate({"t": {"$within": "2d"}}, {"t": value}, now=NOW) is False
        assert evaluate({"t": {"$olderThan": "2d"}}, {"t": value}, now=NOW) is False
