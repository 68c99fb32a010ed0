"""Operators about lists: ``$in $nin $ini $nini $all $alli $elemMatch $size $inGroup
$notInGroup``.

Membership is JavaScript's ``includes`` (no coercion: ``"3"`` is not ``3``), and a list
attribute means intersection: ``{"tags": {"$in": ["a", "b"]}}`` matches when ``tags`` shares
at least one item with ``["a", "b"]``. The operand of ``$in``, ``$nin``, ``$ini``, ``$nini``,
``$all`` and ``$alli`` must be a list (GrowthBook evaluates any other operand to false, even
for ``$nin``).

>>> from firstmile.conditions import evaluate
>>> evaluate({"tags": {"$in": ["a", "b"]}}, {"tags": ["x", "b"]})
True
>>> evaluate({"tags": {"$nin": ["a", "b"]}}, {"tags": []})
True
>>> evaluate({"tags": {"$size": {"$gt": 1}}}, {"tags": ["x", "b"]})
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from firstmile.conditions.context import (
    Context,
    OperatorFactory,
    Path,
    Predicate,
    always_false,
    always_true,
    describe,
    is_scalar,
    show,
)
from firstmile.conditions.jsvalues import is_nan, js_truthy, same_value_key


def _fold(value: Any) -> Any:
    return value.lower() if type(value) is str else same_value_key(value)


def _member_test(items: Sequence[Any], *, insensitive: bool) -> Predicate:
    """``isIn`` from the JavaScript SDK over a precomputed set of keys."""
    if insensitive:
        # $ini compares folded values with ===, under which NaN equals nothing.
        keys = frozenset(_fold(item) for item in items if is_scalar(item) and not is_nan(item))

        def is_in_folded(value: Any, now: float) -> bool:
            if type(value) is list:
                return any(_fold(item) in keys for item in value)
            return _fold(value) in keys

        return is_in_folded

    keys = member_keys(items)

    def is_in(value: Any, now: float) -> bool:
        if type(value) is str:
            return value in keys
        if type(value) is list:
            for item in value:
                if (item if type(item) is str else same_value_key(item)) in keys:
                    return True
            return False
        return same_value_key(value) in keys

    return is_in


def member_keys(items: Sequence[Any]) -> frozenset[Any]:
    """The keys (:func:`same_value_key`) of the items ``$in`` can match: the scalars.

    A string is its own key, so ``value in member_keys(items)`` is the whole test for a
    string value.
    """
    return frozenset(same_value_key(item) for item in items if is_scalar(item))


def membership(*, negated: bool, insensitive: bool) -> OperatorFactory:
    operator = "$" + ("n" if negated else "") + "in" + ("i" if insensitive else "")

    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        if type(expected) is not list:
            return ctx.reject(
                path,
                f"{operator} needs a list of values, got {describe(expected)}; write "
                f'{{"{operator}": [{show(expected)}]}}.',
            )
        for index, item in enumerate(expected):
            if not is_scalar(item):
                ctx.reject(
                    (*path, index),
                    f"{operator} compares items with JavaScript's ===, so {describe(item)} "
                    "never matches; list strings, numbers, booleans or null.",
                )
        test = _member_test(expected, insensitive=insensitive)
        if negated:
            return lambda value, now: not test(value, now)
        return test

    return factory


def all_match(*, insensitive: bool) -> OperatorFactory:
    """``$all`` / ``$alli``: every listed condition matches some item of a list attribute."""
    operator = "$alli" if insensitive else "$all"

    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        if type(expected) is not list:
            return ctx.reject(
                path,
                f"{operator} needs a list, got {describe(expected)}; write "
                f'{{"{operator}": [{show(expected)}]}}.',
            )
        wanted = tuple(
            ctx.value_condition(item, (*path, index), insensitive=insensitive)
            for index, item in enumerate(expected)
        )

        def has_all(value: Any, now: float) -> bool:
            if type(value) is not list:
                return False
            for predicate in wanted:  # noqa: SIM110 (a loop beats all() on a generator)
                if not any(predicate(item, now) for item in value):
                    return False
            return True

        if insensitive or not all(type(item) is str for item in expected):
            return has_all
        return _has_all_texts(tuple(expected), has_all)

    return factory


def _has_all_texts(texts: tuple[str, ...], has_all: Predicate) -> Predicate:
    """``$all`` of strings (``{"tags": {"$all": ["a", "b"]}}``), the usual case.

    On a list of strings, each string literal matches an item exactly when it is equal to
    it, so the test is containment; a list holding anything else (which the literal may
    match after coercion: ``10`` matches ``"10"``) goes to the general ``has_all``.
    """

    def has_all_texts(value: Any, now: float) -> bool:
        if type(value) is not list:
            return False
        for item in value:
            if type(item) is not str:
                return has_all(value, now)
        for text in texts:  # noqa: SIM110 (a loop beats all() on a generator)
            if text not in value:
                return False
        return True

    return has_all_texts


def _is_operator_object(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(str(k)[:1] == "$" for k in value)


def op_elem_match(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$elemMatch``: some item of a list attribute matches.

    With operators (``{"$gt": 10}``) each item is tested as a value; otherwise (``{"name":
    {"$regex": "^ping"}}``) each item is tested as an object of attributes. As in the
    JavaScript SDK, items that are null, false, 0 or "" are skipped.
    """
    if not isinstance(expected, Mapping):
        return ctx.reject(
            path,
            f"$elemMatch needs an object, got {describe(expected)}; for example "
            '{"$elemMatch": {"$gt": 10}} or {"$elemMatch": {"name": "pingpong"}}.',
        )
    if _is_operator_object(expected):
        check = ctx.value_condition(expected, path)
    else:
        check = ctx.condition(expected, path)

    def some_item(value: Any, now: float) -> bool:
        if type(value) is not list:
            return False
        for item in value:  # noqa: SIM110 (a loop beats any() on a generator)
            # An object, the usual item, is always truthy: no call to js_truthy for it.
            if (type(item) is dict or js_truthy(item)) and check(item, now):
                return True
        return False

    return some_item


def op_size(expected: Any, ctx: Context, path: Path) -> Predicate:
    """``$size``: the length of a list attribute equals a number or matches operators."""
    whole = (type(expected) is int and expected >= 0) or (
        type(expected) is float and expected.is_integer() and expected >= 0
    )
    if not whole and not _is_operator_object(expected):
        ctx.reject(
            path,
            f"$size needs a whole number or operators on the length, got "
            f'{describe(expected)}; for example {{"$size": 3}} or {{"$size": {{"$gte": 2}}}}.',
        )
    check = ctx.value_condition(expected, path)
    return lambda value, now: type(value) is list and check(len(value), now)


def group(*, negated: bool) -> OperatorFactory:
    """``$inGroup`` / ``$notInGroup``: the value (or an item of it) is in a saved group."""
    operator = "$notInGroup" if negated else "$inGroup"

    def factory(expected: Any, ctx: Context, path: Path) -> Predicate:
        if type(expected) is not str:
            ctx.reject(
                path, f"{operator} needs the name of a saved group, got {describe(expected)}."
            )
        ids = ctx.saved_group(expected, path)
        if not ids:
            return always_true if negated else always_false
        test = _member_test(ids, insensitive=False)
        if negated:
            return lambda value, now: not test(value, now)
        return test

    return factory
