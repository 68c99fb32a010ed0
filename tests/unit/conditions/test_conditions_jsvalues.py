"""The JavaScript coercions the operators rely on, checked against values printed by Node.js."""

from __future__ import annotations

import math
from typing import Any

import pytest

from firstmile.conditions.jsvalues import (
    js_json,
    js_less_than,
    js_number,
    js_string,
    js_truthy,
    js_type,
    number_to_string,
    same_value_key,
    strict_equal,
    string_to_number,
)
from firstmile.conditions.paths import compile_getter
from firstmile.conditions.versions import padded_version


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (123e-20, "1.23e-18"),
        (0.000001, "0.000001"),
        (1.5e300, "1.5e+300"),
        (2.0**53, "9007199254740992"),
        (2.0**64, "18446744073709552000"),
        (-1.5, "-1.5"),
        (100.0, "100"),
        (0.1 + 0.2, "0.30000000000000004"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456789012345680000.0, "123456789012345680000"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        (-0.0, "0"),
    ],
)
def test_number_to_string_matches_javascript(value: float, text: str) -> None:
    assert number_to_string(value) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (" 12 ", 12.0),
        ("0b101", 5.0),
        ("0o17", 15.0),
        ("-0x10", math.nan),
        ("1e", math.nan),
        (".5", 0.5),
        ("5.", 5.0),
        ("+Infinity", math.inf),
        ("infinity", math.nan),
        ("\u00a012\ufeff", 12.0),
        ("\x1c12", math.nan),
        ("0x", math.nan),
        ("1_000", math.nan),
        ("00012", 12.0),
        ("-.5e-2", -0.005),
        ("\u2028 7 \u3000", 7.0),
        ("", 0.0),
        ("nan", math.nan),
    ],
)
def test_string_to_number_matches_javascript(text: str, number: float) -> None:
    result = string_to_number(text)
    assert result == number or (math.isnan(number) and math.isnan(result))


@pytest.mark.parametrize(
    ("value", "text", "number", "truthy", "kind"),
    [
        (None, "null", 0.0, False, "null"),
        (True, "true", 1.0, True, "boolean"),
        (0, "0", 0.0, False, "number"),
        (10**400, "Infinity", math.inf, True, "number"),
        ("", "", 0.0, False, "string"),
        ([], "", 0.0, True, "array"),
        ([None, 1, [2, 3]], ",1,2,3", math.nan, True, "array"),
        ({}, "[object Object]", math.nan, True, "object"),
        (object(), "[object Object]", math.nan, True, "object"),
    ],
)
def test_coercions(value: Any, text: str, number: float, truthy: bool, kind: str) -> None:
    assert js_string(value) == text
    result = js_number(value)
    assert result == number or (math.isnan(number) and math.isnan(result))
    assert js_truthy(value) is truthy
    assert js_type(value) == kind


def test_strict_equality_and_includes_keys() -> None:
    assert strict_equal(1, 1.0)
    assert not strict_equal(1, True)
    assert not strict_equal(math.nan, math.nan)
    assert not strict_equal([1], [1])
    assert same_value_key(math.nan) == same_value_key(float("nan"))
    assert same_value_key(2**53 + 1) == same_value_key(2**53)
    assert same_value_key(0) == same_value_key(-0.0)


def test_relational_comparison() -> None:
    assert js_less_than("AZL", "alphabet") is True
    assert js_less_than(None, 1) is True
    assert js_less_than("a", 1) is None
    assert js_less_than([2], "10") is False
    assert js_less_than("😀", "\uff01") is True


def test_json_stringify_order_and_values() -> None:
    assert js_json({"b": 1, "10": 2, "2": 3, "01": 4}) == '{"2":3,"10":2,"b":1,"01":4}'
    assert js_json([math.inf, 1.0, "é", None, True]) == '[null,1,"\\u00e9",null,true]'


def test_getter_handles_any_shape() -> None:
    get = compile_getter("a.b.0")
    assert get({"a": {"b": ["x"]}}) == "x"
    shapes: list[Any] = [None, 0, "", [], {"a": None}, {"a": {"b": "text"}}, {"a": {"b": []}}]
    for shape in shapes:
        assert get(shape) is None
    assert compile_getter("a")([1]) is None


def test_padded_versions() -> None:
    assert padded_version("v1.2.3-rc.1+build") == "    1-    2-    3-rc-    1"
    # As in JavaScript, "+.*$" stops at a line break, so this build suffix stays.
    assert padded_version("1.2.3+a\nb") == "    1-    2-3+a\nb-~"
    assert padded_version(1.5) == "    1-    5"
    assert padded_version([]) == "    0"
