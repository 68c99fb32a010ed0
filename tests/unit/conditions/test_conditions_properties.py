"""Properties that hold for every valid condition and any JSON attributes (hypothesis)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.conditions import compile_condition, evaluate

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GROUPS = {"beta": ["u1", 2, True], "empty": []}
PATHS = ["a", "b", "a.b", "tags", "tags.0", "events.Completed Step.count_7d", "$groups"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["", "0", "10", " 1e3 ", "0x1F", "a", "A", "1.2.3", "2026-11-20T00:00:00Z"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "c", "0", "Completed Step"]), children, max_size=4
        )
    ),
    max_leaves=12,
)
attributes = st.dictionaries(
    st.sampled_from(["a", "b", "tags", "events", "$groups", "x"]), json_values, max_size=6
)

plain_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
literal_values = st.recursive(
    plain_scalars | st.floats(allow_nan=False),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)
scalar_lists = st.lists(plain_scalars | st.floats(allow_nan=False), max_size=4)


def _operators(value_condition: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    order_bound = st.integers(-5, 5) | st.floats(-10, 10) | st.text(max_size=3)
    operand = st.one_of(
        st.tuples(st.sampled_from(["$eq", "$ne"]), plain_scalars),
        st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), order_bound),
        st.tuples(st.just("$exists"), st.booleans()),
        st.tuples(
            st.just("$type"),
            st.sampled_from(["string", "number", "boolean", "object", "array", "null"]),
        ),
        st.tuples(st.sampled_from(["$in", "$nin", "$ini", "$nini"]), scalar_lists),
        st.tuples(st.sampled_from(["$all", "$alli"]), st.lists(value_condition, max_size=3)),
        st.tuples(
            st.just("$size"), st.integers(0, 3) | st.fixed_dictionaries({"$gt": st.integers(0, 3)})
        ),
        st.tuples(
            st.sampled_from(["$regex", "$regexi"]),
            st.sampled_from(["^a", "b$", "(a+)+$", "^\\d+$", "", "[^]", "\\u0041"]),
        ),
        st.tuples(
            st.sampled_from(["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"]),
            st.sampled_from(["1.2.3", "v2.0.0-rc.1", "10", "0"]),
        ),
        st.tuples(st.sampled_from(["$within", "$olderThan"]), st.sampled_from(["1h", "7d", "2w"])),
        st.tuples(st.sampled_from(["$inGroup", "$notInGroup"]), st.sampled_from(["beta", "empty"])),
        st.tuples(st.just("$not"), value_condition),
        st.tuples(st.just("$elemMatch"), value_condition.filter(lambda v: isinstance(v, dict))),
    )
    return st.lists(operand, min_size=1, max_size=3).map(dict)


value_conditions = st.recursive(
    literal_values.filter(lambda v: not isinstance(v, dict) or v == {} or "$" not in "".join(v)),
    _operators,
    max_leaves=6,
)


def _conditions(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    logical = st.one_of(
        st.tuples(st.sampled_from(["$and", "$or"]), st.lists(children, max_size=3)),
        st.tuples(st.just("$nor"), st.lists(children, min_size=1, max_size=3)),
        st.tuples(st.just("$not"), children),
    )
    leaf = st.tuples(st.sampled_from(PATHS), value_conditions)
    return st.lists(logical | leaf, max_size=3).map(dict)


conditions = st.recursive(
    st.dictionaries(st.sampled_from(PATHS), value_conditions, max_size=3), _conditions, max_leaves=8
)


@settings(max_examples=300, deadline=None)
@given(conditions, attributes)
def test_evaluation_never_raises_and_returns_a_bool(condition: dict[str, Any], attrs: Any) -> None:
    compiled = compile_condition(condition, GROUPS)
    assert compiled(attrs, now=NOW) in (True, False)


@settings(max_examples=200, deadline=None)
@given(conditions, attributes)
def test_not_inverts(condition: dict[str, Any], attrs: Any) -> None:
    result = compile_condition(condition, GROUPS)(attrs, now=NOW)
    assert compile_condition({"$not": condition}, GROUPS)(attrs, now=NOW) is (not result)


@settings(max_examples=200, deadline=None)
@given(conditions, attributes)
def test_and_of_one_is_the_one(condition: dict[str, Any], attrs: Any) -> None:
    result = compile_condition(condition, GROUPS)(attrs, now=NOW)
    assert compile_condition({"$and": [condition]}, GROUPS)(attrs, now=NOW) is result
    assert compile_condition({"$or": [condition]}, GROUPS)(attrs, now=NOW) is result


@settings(max_examples=200, deadline=None)
@given(conditions, attributes)
def test_compiled_one_shot_and_lenient_agree(condition: dict[str, Any], attrs: Any) -> None:
    compiled = compile_condition(condition, GROUPS)
    lenient = compile_condition(condition, GROUPS, strict=False)
    one_shot = evaluate(condition, attrs, GROUPS, now=NOW)
    assert compiled(attrs, now=NOW) is one_shot is lenient(attrs, now=NOW)


@settings(max_examples=100, deadline=None)
@given(conditions, attributes)
def test_nothing_is_mutated(condition: dict[str, Any], attrs: Any) -> None:
    condition_before = copy.deepcopy(condition)
    attrs_before = json.dumps(attrs, default=repr)
    compile_condition(condition, GROUPS)(attrs, now=NOW)
    assert json.dumps(condition, default=repr) == json.dumps(condition_before, default=repr)
    assert json.dumps(attrs, default=repr) == attrs_before


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(PATHS), value_conditions, max_size=4))
def test_every_top_level_path_is_listed(condition: dict[str, Any]) -> None:
    assert compile_condition(condition, GROUPS).attributes == frozenset(condition)
