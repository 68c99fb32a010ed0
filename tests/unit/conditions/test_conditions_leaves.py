"""Fused leaves answer exactly what the general predicates answer (firstmile.conditions.leaves).

A fused leaf reads the attribute and tests the value in one closure, with a fast path for one
type of value. The reference here is the same value condition under a double ``$not``, which
the compiler never fuses: ``{"a": {"$not": {"$not": C}}}`` is ``{"a": C}`` on the general path.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.conditions import compile_condition, evaluate
from firstmile.conditions.leaves import fast_path
from firstmile.conditions.paths import compile_getter

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BIG = 2**53 + 1  # beyond the ints a JavaScript number holds exactly

FUSED: list[Any] = [
    "pro",
    "10",
    "",
    10,
    0,
    -0.0,
    2.5,
    BIG,
    True,
    False,
    {"$eq": "pro"},
    {"$eq": "10"},
    {"$ne": "pro"},
    {"$eq": 10},
    {"$eq": 2.5},
    {"$eq": BIG},
    {"$ne": 10},
    {"$gt": 5},
    {"$gte": 5},
    {"$lt": 5},
    {"$lte": 5},
    {"$gt": 0.5},
    {"$lte": -1},
    {"$gt": BIG},
    {"$lt": math.inf},
    {"$in": ["pro", "team"]},
    {"$in": ["10", 10, True, None]},
    {"$in": []},
    {"$nin": ["pro", "team"]},
    {"$nin": [None, "x"]},
    {"$exists": True},
    {"$exists": False},
    {"$veq": "1.2.3"},
    {"$vne": "1.2.3"},
    {"$vgt": "1.2.3"},
    {"$vgte": "1.2.3-rc.1"},
    {"$vlt": "v2.0"},
    {"$vlte": 2},
]

VALUES: list[Any] = [
    None,
    "pro",
    "team",
    "",
    "10",
    " 10 ",
    "0x0A",
    "1.2.3",
    "1.2.3-rc.1",
    "2.0.0",
    "v1.2.3+build",
    "é",
    10,
    10.0,
    5,
    0,
    -0.0,
    2.5,
    -1,
    BIG,
    -BIG,
    2**64,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    [],
    ["pro"],
    ["team", "pro"],
    [10],
    ["10"],
    [None],
    [[]],
    {},
    {"a": 1},
    datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    date(1990, 5, 1),
]


def reference(condition: Any) -> dict[str, Any]:
    return {"$not": {"$not": condition}}


def _nest(path: str, value: Any) -> Any:
    for part in reversed(path.split(".")):
        value = {part: value}
    return value


@pytest.mark.parametrize("condition", FUSED, ids=repr)
def test_every_fused_form_has_a_fast_path(condition: Any) -> None:
    if not (isinstance(condition, dict) and "$exists" in condition):
        assert fast_path(condition) is not None


@pytest.mark.parametrize("path", ["a", "o.a", "o.p.a"])
@pytest.mark.parametrize("condition", FUSED, ids=repr)
def test_fused_leaves_agree_with_the_general_path(condition: Any, path: str) -> None:
    fused = compile_condition({path: condition})
    general = compile_condition({path: reference(condition)})

    for value in VALUES:
        attributes = _nest(path, value)
        assert fused(attributes, now=NOW) is general(attributes, now=NOW), value
    # Missing at every depth, and parts that are not objects.
    for attributes in ({}, {"o": None}, {"o": {}}, {"o": "text"}, {"o": [1]}, {"o": {"p": 3}}):
        assert fused(attributes, now=NOW) is general(attributes, now=NOW), attributes


@pytest.mark.parametrize("condition", FUSED, ids=repr)
def test_fused_leaves_read_any_mapping_and_list_items(condition: Any) -> None:
    fused = compile_condition({"a": condition})
    general = compile_condition({"a": reference(condition)})
    for value in VALUES:
        proxy = MappingProxyType({"a": value})
        assert fused(proxy, now=NOW) is general(proxy, now=NOW)
    # Inside $elemMatch the "attributes" are the items of a list, whatever they are.
    items = [*VALUES, {"a": "pro"}, {"a": 10}, {"a": None}]
    for item in items:
        wrapped = {"list": [item]}
        assert evaluate({"list": {"$elemMatch": {"a": condition}}}, wrapped) is evaluate(
            {"list": {"$elemMatch": {"a": reference(condition)}}}, wrapped
        )


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats()
    | st.text(max_size=4)
    | st.sampled_from(["10", "1e1", "0", "pro", "1.2.3", "v1.2", "2026-11-20"])
)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3), max_leaves=5)
operands = st.integers(-20, 20) | st.floats(allow_nan=False) | st.text(max_size=3)
fusable = st.one_of(
    st.text(max_size=3),
    st.integers(-20, 20),
    st.floats(allow_nan=False),
    st.booleans(),
    st.fixed_dictionaries({"$eq": st.text(max_size=3) | st.integers(-20, 20)}),
    st.fixed_dictionaries({"$ne": st.text(max_size=3) | st.integers(-20, 20)}),
    st.builds(
        lambda op, bound: {op: bound}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), operands
    ),
    st.builds(
        lambda op, items: {op: items},
        st.sampled_from(["$in", "$nin"]),
        st.lists(st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=2), max_size=4),
    ),
    st.builds(lambda present: {"$exists": present}, st.booleans()),
    st.builds(
        lambda op, version: {op: version},
        st.sampled_from(["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"]),
        st.sampled_from(["1.2.3", "1.2.3-rc.1", "v2", "10", "0"]) | st.integers(0, 3),
    ),
)


@settings(max_examples=400, deadline=None)
@given(fusable, values, st.sampled_from(["a", "o.a", "o.p.a", "o.p.q.a"]))
def test_fused_and_general_agree_on_any_value(condition: Any, value: Any, path: str) -> None:
    attributes = _nest(path, value)
    fused = compile_condition({path: condition})
    general = compile_condition({path: reference(condition)})
    assert fused(attributes, now=NOW) is general(attributes, now=NOW)


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        # Missing and null: the general answer, decided once.
        ({"n": {"$lt": 5}}, {}, True),  # null compares as 0, as in the JavaScript SDK
        ({"n": {"$gt": -1}}, {"n": None}, True),
        ({"n": {"$eq": 0}}, {}, False),  # $eq has no coercion
        ({"n": 0}, {}, True),  # a number literal compares value * 1
        ({"s": "null"}, {}, True),  # a string literal compares String(value)
        ({"s": {"$ne": "x"}}, {}, True),
        ({"s": {"$nin": ["x"]}}, {}, True),
        ({"s": {"$in": [None]}}, {}, True),
        ({"b": False}, {}, False),  # missing is never false
        ({"v": {"$vlt": "0.0.1"}}, {}, True),  # a missing version is "0"
        # Coercions on the general path.
        ({"n": 10}, {"n": "10"}, True),
        ({"n": {"$eq": 10}}, {"n": "10"}, False),
        ({"s": "10"}, {"s": 10}, True),
        ({"n": {"$gte": 10}}, {"n": " 10 "}, True),
        ({"n": {"$gt": 1}}, {"n": True}, False),
        ({"n": {"$gt": 0}}, {"n": True}, True),
        ({"b": True}, {"b": 1}, True),
        ({"b": True}, {"b": "false"}, True),
        # Arrays on the attribute side.
        ({"tags": {"$in": ["a", "b"]}}, {"tags": ["x", "b"]}, True),
        ({"tags": {"$nin": ["a", "b"]}}, {"tags": ["x", "b"]}, False),
        ({"tags": {"$in": [1]}}, {"tags": [1.0]}, True),
        ({"tags": "a,b"}, {"tags": ["a", "b"]}, True),
        ({"n": {"$gte": 3}}, {"n": [4]}, True),  # [4] -> "4" -> 4
        ({"n": {"$gte": 3}}, {"n": [4, 5]}, False),  # "4,5" is NaN
        # Numbers a double cannot hold exactly compare as JavaScript rounds them.
        ({"n": {"$gt": 2**53}}, {"n": 2**53 + 1}, False),
        ({"n": {"$eq": 2**53}}, {"n": 2**53 + 1}, True),
        ({"n": 2**53}, {"n": 2**53 + 1}, True),
        ({"n": {"$lt": math.inf}}, {"n": 10**400}, False),
        ({"n": {"$gt": 1}}, {"n": math.nan}, False),
        ({"n": {"$ne": 1}}, {"n": math.nan}, True),
        # Dates read as ISO-8601 text.
        (
            {"d": {"$eq": "2026-11-20T09:00:00+00:00"}},
            {"d": datetime(2026, 11, 20, 9, tzinfo=UTC)},
            True,
        ),
        ({"o.d": "1990-05-01"}, {"o": {"d": date(1990, 5, 1)}}, True),
        # Paths through lists and non-objects.
        ({"tags.1": "b"}, {"tags": ["a", "b"]}, True),
        ({"tags.length": {"$gte": 2}}, {"tags": ["a", "b"]}, True),
        ({"a.b.c": {"$exists": False}}, {"a": "text"}, True),
        ({"a.b.c": {"$exists": True}}, {"a": {"b": {"c": 0}}}, True),
        ({"a.b": {"$exists": True}}, {"a": {"b": None}}, False),
    ],
)
def test_edge_cases(condition: dict[str, Any], attributes: dict[str, Any], expected: bool) -> None:
    assert evaluate(condition, attributes) is expected
    path, value_condition = next(iter(condition.items()))
    assert evaluate({path: reference(value_condition)}, attributes) is expected


def test_a_str_subclass_takes_the_general_path() -> None:
    class Name(str):
        pass

    assert evaluate({"a": "pro"}, {"a": Name("pro")}) is evaluate(
        {"a": reference("pro")}, {"a": Name("pro")}
    )


@pytest.mark.parametrize("path", ["a", "a.b", "a.b.c", "a.b.c.d"])
def test_getters_of_every_depth(path: str) -> None:
    get = compile_getter(path)
    assert get(_nest(path, 7)) == 7
    assert get(MappingProxyType(_nest(path, 7))) == 7
    assert get({}) is None
    assert get({"a": None}) is None
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert get(_nest(path, moment)) == moment.isoformat()
    assert get(_nest(path, date(2026, 1, 1))) == "2026-01-01"


@pytest.mark.parametrize("path", ["a.b", "a.b.c", "a.b.c.d"])
def test_deep_getters_stop_at_what_is_not_an_object(path: str) -> None:
    get = compile_getter(path)
    for value in ("text", 3, None, True, [{"b": 1}]):
        assert get({"a": value}) is None
    assert get({"a": MappingProxyType(_nest(path, 7)["a"])}) == 7


def test_getters_read_list_indexes_and_lengths_at_every_depth() -> None:
    assert compile_getter("a.0")({"a": ["x"]}) == "x"
    assert compile_getter("a.b.1")({"a": {"b": ["x", "y"]}}) == "y"
    assert compile_getter("a.b.length")({"a": {"b": ["x", "y"]}}) == 2
    assert compile_getter("a.0.b")({"a": [{"b": 3}]}) == 3
    assert compile_getter("a.01")({"a": ["x", "y"]}) is None
