"""Equality: a literal after an attribute name, ``$eq`` and ``$ne``.

A literal compares the way GrowthBook's JavaScript SDK does, by the literal's type:

- string: ``String(value) === literal`` (the number ``10`` matches ``"10"``, null matches
  ``"null"``);
- number: ``value * 1 === literal`` (``"10"`` matches ``10``; null and missing match ``0``);
- boolean: ``value !== null && !!value === literal`` (missing never matches ``false``);
- null: the value is null or missing;
- list or object: ``JSON.stringify`` equality (order of list items and of keys matters).

``$eq`` and ``$ne`` are JavaScript's ``===`` and ``!==``: no coercion at all.

>>> from firstmile.conditions import evaluate
>>> evaluate({"age": "10"}, {"age": 10}), evaluate({"age": {"$eq": "10"}}, {"age": 10})
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from firstmile.conditions.context import (
    Context,
    Path,
    Predicate,
    always_false,
    always_true,
    is_scalar,
    show,
)
from firstmile.conditions.jsvalues import (
    MAX_SAFE_INTEGER,
    int_to_float,
    is_nan,
    js_json,
    js_number,
    js_string,
    js_truthy,
    same_value_key,
)


def literal(expected: Any, *, insensitive: bool = False) -> Predicate:
    """The predicate for a literal condition value (see the module documentation)."""
    kind = type(expected)
    if kind is str:
        return _string_literal(expected, insensitive=insensitive)
    if kind is int or kind is float:
        return _number_literal(int_to_float(expected) if kind is int else expected)
    if kind is bool:
        if expected:
            return lambda value, now: js_truthy(value)
        return lambda value, now: value is not None and not js_truthy(value)
    if expected is None:
        return lambda value, now: value is None
    canonical = js_json(expected)

    def same_json(value: Any, now: float) -> bool:
        if type(value) is list or isinstance(value, Mapping):
            return js_json(value) == canonical
        return False

    return same_json


def _string_literal(expected: str, *, insensitive: bool) -> Predicate:
    if insensitive:
        folded = expected.lower()
        return lambda value, now: js_string(value).lower() == folded

    def equals(value: Any, now: float) -> bool:
        if type(value) is str:
            return bool(value == expected)
        return js_string(value) == expected

    return equals


def _number_literal(expected: float) -> Predicate:
    if math.isnan(expected):
        return always_false  # NaN equals nothing

    def equals(value: Any, now: float) -> bool:
        kind = type(value)
        if kind is float or (kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER):
            return bool(value == expected)
        return js_number(value) == expected

    return equals


def _strict_operand(operator: str, expected: Any, ctx: Context, path: Path) -> bool:
    """Whether ``expected`` can ever be ``===`` to a value; rejects it in strict mode if not."""
    if is_scalar(expected):
        if is_nan(expected):
            ctx.reject(path, f"{operator} with NaN never matches (NaN is not equal to itself).")
            return False
        return True
    ctx.reject(
        path,
        f"{operator} compares with JavaScript's ===, so the list or object {show(expected)} "
        f"never equals anything; to compare the whole value write it as a literal: "
        f'{{"attribute": {show(expected)}}}.',
    )
    return False


def op_eq(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$eq``: ``value === expected``."""
    if not _strict_operand("$eq", expected, ctx, path):
        return always_false
    if type(expected) is str:
        return lambda value, now: type(value) is str and value == expected
    key = same_value_key(expected)
    return lambda value, now: bool(same_value_key(value) == key)


def op_ne(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$ne``: ``value !== expected``."""
    if not _strict_operand("$ne", expected, ctx, path):
        return always_true
    if type(expected) is str:
        return lambda value, now: type(value) is not str or value != expected
    key = same_value_key(expected)
    return lambda value, now: bool(same_value_key(value) != key)
