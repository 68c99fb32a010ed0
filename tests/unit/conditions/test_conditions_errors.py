"""Strict compilation rejects what cannot mean what its author wanted, pointing at the part."""

from __future__ import annotations

from typing import Any

import pytest

from firstmile.conditions import compile_condition, evaluate
from firstmile.errors import ConditionError, FirstmileError

GROUPS = {"beta_testers": ["u1", "u2"], "staff": "u9"}

# (condition, JSON path of the offending part, words the message must contain)
ERRORS: list[tuple[Any, tuple[str | int, ...], str]] = [
    (["plan", "pro"], (), "a condition is an object"),
    ({"age": {"$gtt": 18}}, ("age", "$gtt"), "did you mean $gt?"),
    ({"email": {"$notRegex": "@x"}}, ("email", "$notRegex"), '{"$not": {"$regex": ...}}'),
    ({"age": {"$between": [1, 2]}}, ("age", "$between"), "the operators are"),
    ({"plan": {"$or": ["a", "b"]}}, ("plan", "$or"), "use $or at the condition level"),
    ({"num": {"$in": 1}}, ("num", "$in"), 'write {"$in": [1]}'),
    ({"num": {"$nin": "a"}}, ("num", "$nin"), "needs a list of values"),
    ({"c": {"$ini": None}}, ("c", "$ini"), "got null"),
    ({"tags": {"$in": ["a", ["b"]]}}, ("tags", "$in", 1), "never matches"),
    ({"tags": {"$nini": [{"a": 1}]}}, ("tags", "$nini", 0), "never matches"),
    ({"tags": {"$all": "a"}}, ("tags", "$all"), "$all needs a list"),
    ({"tags": {"$alli": {"a": 1}}}, ("tags", "$alli"), "$alli needs a list"),
    ({"tags": {"$size": "3"}}, ("tags", "$size"), '{"$size": 3}'),
    ({"tags": {"$size": -1}}, ("tags", "$size"), "whole number"),
    ({"tags": {"$size": 1.5}}, ("tags", "$size"), "whole number"),
    ({"tags": {"$elemMatch": "a"}}, ("tags", "$elemMatch"), "$elemMatch needs an object"),
    ({"name": {"$regex": "/???***[)"}}, ("name", "$regex"), "not a valid regular expression"),
    ({"name": {"$regexi": "a(?=b)"}}, ("name", "$regexi"), "lookahead or lookbehind"),
    ({"name": {"$regex": "(a)\\1"}}, ("name", "$regex"), "back-reference"),
    ({"name": {"$regex": 5}}, ("name", "$regex"), "needs a pattern string"),
    ({"d": {"$within": "seven days"}}, ("d", "$within"), '"7d"'),
    ({"d": {"$within": 7}}, ("d", "$within"), "needs a duration"),
    ({"d": {"$olderThan": "1mo"}}, ("d", "$olderThan"), "units s, m, h, d, w"),
    ({"d": {"$olderThan": "7D"}}, ("d", "$olderThan"), "needs a duration"),
    ({"id": {"$inGroup": "beta_tester"}}, ("id", "$inGroup"), 'did you mean "beta_testers"?'),
    ({"id": {"$notInGroup": "x"}}, ("id", "$notInGroup"), "there is no saved group"),
    ({"id": {"$inGroup": "staff"}}, ("id", "$inGroup"), "must be a list of ids"),
    ({"id": {"$inGroup": ["u1"]}}, ("id", "$inGroup"), "name of a saved group"),
    ({"$and": {"a": 1}}, ("$and",), "$and needs a list of conditions"),
    ({"$and": [{"a": 1}, "b"]}, ("$and", 1), "a condition is an object"),
    ({"$or": "a"}, ("$or",), "$or needs a list of conditions"),
    ({"$nor": []}, ("$nor",), "an empty $nor never matches"),
    ({"$not": ["a"]}, ("$not",), "a condition is an object"),
    ({"$or": [{"a": 1}, {"b": {"$in": 2}}]}, ("$or", 1, "b", "$in"), "needs a list"),
    ({"$in": ["a"]}, ("$in",), "goes under an attribute name"),
    ({"age": {"$gte": 1, "lte": 5}}, ("age",), "mixes operators ($gte) with plain keys (lte)"),
    ({"x": {"$eq": [1, 2]}}, ("x", "$eq"), "write it as a literal"),
    ({"x": {"$ne": {"a": 1}}}, ("x", "$ne"), "never equals anything"),
    ({"x": {"$eq": float("nan")}}, ("x", "$eq"), "NaN"),
    ({"x": {"$gt": True}}, ("x", "$gt"), "needs a number or a string"),
    ({"x": {"$lte": None}}, ("x", "$lte"), "got null"),
    ({"x": {"$exists": 1}}, ("x", "$exists"), "true or false"),
    ({"x": {"$type": "int"}}, ("x", "$type"), '"number"'),
    ({"x": {"$type": "undefined"}}, ("x", "$type"), '{"$exists": false}'),
    ({"v": {"$vgt": ["1"]}}, ("v", "$vgt"), "needs a version string"),
    ({"v": {"$veq": ""}}, ("v", "$veq"), "needs a version string"),
    ({"a..b": 1}, ("a..b",), "has an empty part"),
    ({"x": {1, 2}}, ("x",), "is not a JSON value"),
    ({"items": {"$elemMatch": {"qty": {"$foo": 1}}}}, ("items", "$elemMatch", "qty", "$foo"), ""),
    ({"tags": {"$all": [{"$regex": "("}]}}, ("tags", "$all", 0, "$regex"), "missing )"),
    ({"tags": {"$size": {"$gtt": 1}}}, ("tags", "$size", "$gtt"), "did you mean $gt?"),
    ({"x": {"$not": {"$in": "a"}}}, ("x", "$not", "$in"), "needs a list"),
    ({"$not": {"$and": [{"a": {"$exists": "yes"}}]}}, ("$not", "$and", 0, "a", "$exists"), ""),
]


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join(f"/{part}" for part in path)


@pytest.mark.parametrize(
    ("condition", "path", "words"), ERRORS, ids=[_pointer(e[1]) or "/" for e in ERRORS]
)
def test_strict_compilation_names_the_offending_part(
    condition: Any, path: tuple[str | int, ...], words: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(condition, GROUPS)
    err = caught.value
    assert err.path == path
    assert err.field == _pointer(path)
    assert err.code == "invalid_condition"
    assert err.status == 400
    assert isinstance(err, FirstmileError)
    assert words in err.problem
    assert err.message == f"Invalid condition at {_pointer(path) or 'the top level'}: {err.problem}"
    assert err.to_body() == {
        "code": "invalid_condition",
        "message": err.message,
        "status": 400,
        "field": _pointer(path),
    }


@pytest.mark.parametrize(("condition", "path", "words"), ERRORS)
def test_lenient_compilation_never_raises(
    condition: Any, path: tuple[str | int, ...], words: str
) -> None:
    compiled = compile_condition(condition, GROUPS, strict=False)
    for attributes in ({}, {"x": 1, "tags": ["a"], "name": "ab"}, {"num": 1, "age": 3}):
        assert isinstance(compiled(attributes), bool)


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        # GrowthBook's answers for invalid parts: false, which $not turns into true.
        ({"x": {"$regx": 1}}, {"x": 1}, False),
        ({"x": {"$not": {"$regx": 1}}}, {"x": 1}, True),
        ({"x": {"$nin": "a"}}, {"x": "b"}, False),
        ({"x": {"$regex": "(?=a)"}}, {"x": "a"}, False),
        ({"x": {"$inGroup": "nope"}}, {"x": "a"}, False),
        ({"x": {"$notInGroup": "nope"}}, {"x": "a"}, True),
        # Where JavaScript gives a defined answer for an odd operand, lenient mode keeps it.
        ({"x": {"$gt": True}}, {"x": 2}, True),
        ({"x": {"$exists": 1}}, {"x": 0}, True),
        ({"x": {"$size": "2"}}, {"x": [1, 2]}, True),
        ({"x": {"$eq": [1]}}, {"x": [1]}, False),
        ({"x": {"$ne": [1]}}, {"x": [1]}, True),
        ({"$in": ["a"]}, {"$in": ["a"]}, True),
        # Structural mistakes evaluate to false.
        ({"$and": {"x": 1}}, {"x": 1}, False),
        ({"$or": [{"x": 1}, "junk"]}, {"x": 1}, True),
    ],
)
def test_lenient_mode_follows_growthbook(
    condition: Any, attributes: dict[str, Any], expected: bool
) -> None:
    assert evaluate(condition, attributes, {}, strict=False) is expected


def test_a_missing_saved_groups_mapping_is_reported() -> None:
    with pytest.raises(ConditionError, match="no saved groups are defined"):
        compile_condition({"id": {"$inGroup": "beta"}})


def test_the_known_saved_groups_are_listed_when_none_is_close() -> None:
    with pytest.raises(ConditionError, match='the saved groups are "beta_testers", "staff"'):
        compile_condition({"id": {"$inGroup": "zzz"}}, GROUPS)


def test_evaluate_is_strict_by_default() -> None:
    with pytest.raises(ConditionError):
        evaluate({"x": {"$in": "a"}}, {"x": "a"})
