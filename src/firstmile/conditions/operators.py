"""The operator table: each ``$operator`` and the factory that compiles it to a predicate.

A factory receives the operand (what follows the operator), the compiler and the JSON path of
the operator, checks the operand up front, and returns a closure over the attribute's value.
Comparisons, ``$exists``, ``$type``, ``$not``, regular expressions, versions and relative time
live here; the operators on lists live in :mod:`firstmile.conditions.arrays`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from operator import eq, ge, gt, le, lt, ne
from typing import Any, Final

from firstmile.conditions import arrays
from firstmile.conditions.context import (
    Context,
    OperatorFactory,
    Path,
    Predicate,
    describe,
    is_number,
    negate,
    show,
)
from firstmile.conditions.jsvalues import (
    MAX_SAFE_INTEGER,
    code_unit_less,
    int_to_float,
    js_less_than,
    js_string,
    js_truthy,
    js_type,
)
from firstmile.conditions.literals import op_eq, op_ne
from firstmile.conditions.regex import RegexSyntaxError, compile_js_regex
from firstmile.conditions.timestamps import parse_duration, text_seconds, timestamp_seconds
from firstmile.conditions.versions import text_version_key, version_key

# --- $gt $gte $lt $lte ------------------------------------------------------------------------

# Each comparison takes (value, bound). The generic one is JavaScript's: js_less_than answers
# True, False or None (a NaN made the comparison undefined, which is false for all four).
# Numbers and strings take a fast path first; both give the generic answer.
Comparison = Callable[[Any, Any], bool]
_COMPARE: Final[dict[str, Comparison]] = {
    "$gt": lambda value, expected: js_less_than(expected, value) is True,
    "$gte": lambda value, expected: js_less_than(value, expected) is False,
    "$lt": lambda value, expected: js_less_than(value, expected) is True,
    "$lte": lambda value, expected: js_less_than(expected, value) is False,
}
_NUMERIC: Final[dict[str, Comparison]] = {
    "$gt": gt,
    "$gte": ge,
    "$lt": lt,
    "$lte": le,
}
_TEXT: Final[dict[str, Comparison]] = {
    "$gt": lambda value, expected: code_unit_less(expected, value),
    "$gte": lambda value, expected: not code_unit_less(value, expected),
    "$lt": code_unit_less,
    "$lte": lambda value, expected: not code_unit_less(expected, value),
}


def _comparison(operator: str) -> OperatorFactory:
    generic = _COMPARE[operator]
    numeric = _NUMERIC[operator]
    text = _TEXT[operator]

    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        if type(expected) is str:

            def compare_text(value: Any, now: float) -> bool:
                if type(value) is str:
                    return text(value, expected)
                return generic(value, expected)

            return compare_text
        if is_number(expected):
            bound = int_to_float(expected) if type(expected) is int else expected

            def compare_number(value: Any, now: float) -> bool:
                kind = type(value)
                if kind is float or (
                    kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
                ):
                    return numeric(value, bound)
                return generic(value, bound)

            return compare_number
        ctx.reject(
            path,
            f"{operator} needs a number or a string, got {describe(expected)}; "
            f'for example {{"{operator}": 18}} or {{"{operator}": "2026-01-01"}}.',
        )
        return lambda value, now: generic(value, expected)

    return factory


# --- $exists $type $not -----------------------------------------------------------------------


def op_exists(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$exists``: true -> the value is not null or missing; false -> it is."""
    if type(expected) is not bool:
        ctx.reject(path, f"$exists needs true or false, got {describe(expected)}.")
    if js_truthy(expected):
        return lambda value, now: value is not None
    return lambda value, now: value is None


TYPE_NAMES: Final = ("string", "number", "boolean", "object", "array", "null")


def op_type(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$type``: the value's JSON type; a missing attribute has type ``"null"``."""
    if expected not in TYPE_NAMES:
        hint = (
            'a missing attribute has type "null"; write {"$type": "null"} or {"$exists": false}'
            if expected == "undefined"
            else "write one of " + ", ".join(f'"{name}"' for name in TYPE_NAMES)
        )
        ctx.reject(path, f"$type does not know {describe(expected)}: {hint}.")
    return lambda value, now: js_type(value) == expected


def op_not(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$not``: negates a value condition (``{"$not": {"$regex": "^test"}}``)."""
    return negate(ctx.value_condition(expected, path))


# --- $regex $regexi ---------------------------------------------------------------------------


def _regex_problem(exc: RegexSyntaxError) -> str:
    reason = str(exc)
    if "(?=" in reason or "(?!" in reason or "(?<=" in reason or "(?<!" in reason:
        return (
            f"uses lookahead or lookbehind ({reason}), which RE2 (the linear-time engine that "
            'runs patterns) does not support; to exclude matches write {"$not": {"$regex": ...}}.'
        )
    if re.search(r"invalid escape sequence: \\[1-9]", reason):
        return (
            f"uses a back-reference ({reason}), which RE2 (the linear-time engine that runs "
            "patterns) does not support; spell the repeated text out."
        )
    return f"is not a valid regular expression: {reason}."


def _regex(ignore_case: bool) -> OperatorFactory:
    operator = "$regexi" if ignore_case else "$regex"

    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        if type(expected) is not str:
            return ctx.reject(
                path,
                f"{operator} needs a pattern string, got {describe(expected)}; for "
                f'example {{"{operator}": "^https://"}}.',
            )
        try:
            test = compile_js_regex(expected, ignore_case=ignore_case)
        except RegexSyntaxError as exc:
            return ctx.reject(path, f"{operator} pattern {show(expected)} {_regex_problem(exc)}")

        def matches(value: Any, now: float) -> bool:
            return test(value if type(value) is str else js_string(value))

        return matches

    return factory


# --- $veq $vne $vgt $vgte $vlt $vlte ----------------------------------------------------------

# Each compares (value key, bound key): the padded versions as UTF-16 code units (bytes).
_VERSION: Final[dict[str, Comparison]] = {
    "$veq": eq,
    "$vne": ne,
    "$vgt": gt,
    "$vgte": ge,
    "$vlt": lt,
    "$vlte": le,
}


VERSION_OPERATORS: Final = frozenset(_VERSION)


def _version_bound(operator: str, expected: Any, ctx: Context, path: Path) -> bytes:
    """The key of a version operand, rejecting one that is not a version."""
    if not (type(expected) is str and expected) and not is_number(expected):
        ctx.reject(
            path,
            f"{operator} needs a version string, got {describe(expected)}; for example "
            f'{{"{operator}": "2.4.0"}}.',
        )
    return version_key(expected)


def version_text_test(operator: str, bound: bytes) -> Callable[[str], bool]:
    """The version operator on a string value: one call to a cache, one comparison."""
    compare = _VERSION[operator]
    return lambda text: compare(text_version_key(text), bound)


def _version(operator: str) -> OperatorFactory:
    compare = _VERSION[operator]

    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        bound = _version_bound(operator, expected, ctx, path)
        return lambda value, now: compare(version_key(value), bound)

    return factory


# --- $within $olderThan (firstmile extensions) -------------------------------------------------


def _relative_time(operator: str) -> OperatorFactory:
    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        seconds = parse_duration(expected) if type(expected) is str else None
        if seconds is None:
            return ctx.reject(
                path,
                f'{operator} needs a duration such as "30m", "12h", "7d" or "2w" '
                f'(units s, m, h, d, w; combine them as "1d12h"), got {describe(expected)}.',
            )
        ctx.mark_time()
        # Timestamps are mostly ISO-8601 text: the cached parse is called directly.
        if operator == "$within":

            def within(value: Any, now: float) -> bool:
                moment = text_seconds(value) if type(value) is str else timestamp_seconds(value)
                return moment is not None and moment >= now - seconds

            return within

        def older_than(value: Any, now: float) -> bool:
            moment = text_seconds(value) if type(value) is str else timestamp_seconds(value)
            return moment is not None and moment < now - seconds

        return older_than

    return factory


# --- the table ---------------------------------------------------------------------------------

OPERATORS: Final[dict[str, OperatorFactory]] = {
    "$eq": op_eq,
    "$ne": op_ne,
    **{name: _comparison(name) for name in ("$gt", "$gte", "$lt", "$lte")},
    "$exists": op_exists,
    "$type": op_type,
    "$not": op_not,
    "$in": arrays.membership(negated=False, insensitive=False),
    "$nin": arrays.membership(negated=True, insensitive=False),
    "$ini": arrays.membership(negated=False, insensitive=True),
    "$nini": arrays.membership(negated=True, insensitive=True),
    "$all": arrays.all_match(insensitive=False),
    "$alli": arrays.all_match(insensitive=True),
    "$elemMatch": arrays.op_elem_match,
    "$size": arrays.op_size,
    "$inGroup": arrays.group(negated=False),
    "$notInGroup": arrays.group(negated=True),
    "$regex": _regex(ignore_case=False),
    "$regexi": _regex(ignore_case=True),
    **{name: _version(name) for name in _VERSION},
    "$within": _relative_time("$within"),
    "$olderThan": _relative_time("$olderThan"),
}
"""Every operator that may appear in an operator object (``{"age": {"$gte": 18}}``)."""

LOGICAL: Final = ("$and", "$or", "$nor", "$not")
"""The operators that combine whole conditions (``{"$or": [{...}, {...}]}``)."""

_INSTEAD: Final = {
    "$notRegex": 'write {"$not": {"$regex": ...}}',
    "$notRegexi": 'write {"$not": {"$regexi": ...}}',
    "$and": "list the operators in one object instead, or use $and at the condition level: "
    '{"$and": [{"attribute": ...}, {"attribute": ...}]}',
    "$or": 'use $or at the condition level: {"$or": [{"attribute": ...}, {"attribute": ...}]}',
    "$nor": 'use $nor at the condition level: {"$nor": [{"attribute": ...}]}',
}


def unknown_operator(operator: str, ctx: Context, path: Path) -> Predicate:
    """Reject an operator that is not in the table, suggesting what to write instead."""
    if operator in _INSTEAD:
        hint = _INSTEAD[operator]
    else:
        close = difflib.get_close_matches(operator, list(OPERATORS), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "the operators are " + " ".join(OPERATORS)
    return ctx.reject(path, f"{operator} is not an operator on a value; {hint}")


def operator_predicate(operator: str, expected: Any, ctx: Context, path: Path) -> Predicate:
    """Compile one ``operator: operand`` pair of an operator object."""
    factory = OPERATORS.get(operator)
    if factory is None:
        return unknown_operator(operator, ctx, path)
    return factory(expected, ctx, path)
