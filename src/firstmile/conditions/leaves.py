"""Leaves: read one attribute and test its value, fused into one closure where it pays.

Most of a condition's work happens at its leaves, such as ``{"plan": "pro"}`` or
``{"events.Signed Up.count": {"$gte": 3}}``: read the attribute, then test the value. The
general leaf calls two closures for that, the path's getter and the value condition's
predicate. For the tests written most often, :func:`leaf` builds a single closure that reads
the value and, when it is of the one type on which the test is a single comparison, answers
at once:

====================================  ==========================  ========================
value condition                       fast path for               answer
====================================  ==========================  ========================
``"pro"``, ``{"$eq": "pro"}``         a string                    ``value == "pro"``
``{"$ne": "pro"}``                    a string                    ``value != "pro"``
``{"$in": [...]}``, ``$nin``          a string                    (not) ``value in [...]``
``5``, ``{"$eq": 5}``, ``$ne``        a number (an int to 2^53)   the comparison
``{"$gt": 5}``, ``$gte``, ``$lt``...  a number (an int to 2^53)   the comparison
``true``, ``false``                   a boolean                   ``value is literal``
``{"$vgt": "2.0.0"}``, ``$veq``...    a string                    the padded versions
``{"$exists": true}`` (or false)      anything                    ``value is not None``
====================================  ==========================  ========================

A missing attribute (or null) gets the general predicate's answer for null, worked out
once when the leaf is built. Any other value (a list, a number beyond 2^53, a date...) goes
to the general predicate, compiled as usual from the same condition. So a fused leaf
answers what the general one would, by construction: the fast path only takes the values
on which the general predicate's answer *is* that one comparison (GrowthBook's coercions,
such as ``10`` matching ``"10"``, null comparing as ``0``, or a list matching ``$in`` by
intersection, all happen on the general path).

>>> from firstmile.conditions import evaluate
>>> evaluate({"plan": "pro"}, {"plan": "pro"}), evaluate({"seats": "10"}, {"seats": 10})
(True, True)
>>> evaluate({"tags": {"$in": ["a"]}}, {"tags": ["b", "a"]})
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from firstmile.conditions.arrays import member_keys
from firstmile.conditions.context import Predicate, is_number
from firstmile.conditions.jsvalues import MAX_SAFE_INTEGER, TIME_TYPES, int_to_float
from firstmile.conditions.operators import VERSION_OPERATORS, version_text_test
from firstmile.conditions.paths import Getter, compile_getter, step, time_to_text
from firstmile.conditions.versions import version_key

Test = Callable[[Any], bool]
"""A test of a value of the fast path's type, such as ``(5.0).__lt__`` for ``$gt: 5``."""

_SAFE: Final = MAX_SAFE_INTEGER
_NUMBER_OPERATORS: Final = frozenset(("$eq", "$ne", "$gt", "$gte", "$lt", "$lte"))


@dataclass(frozen=True, slots=True)
class FastPath:
    """What a fused leaf answers by itself (see the module documentation).

    For a string, ``members`` asks whether it is one of them (``negated``: whether it is
    not); otherwise ``test`` answers for a value of type ``kind``, where ``float`` stands
    for every number.
    """

    kind: type
    test: Test | None = None
    members: frozenset[Any] | None = None
    negated: bool = False


def leaf(key: str, condition: Any, check: Predicate) -> Predicate:
    """The predicate reading the attribute at ``key`` and testing it.

    ``check`` is the general predicate compiled from the value condition ``condition``;
    the result answers exactly as ``check`` on the value read.
    """
    get = compile_getter(key) if "." in key else None
    if isinstance(condition, Mapping) and len(condition) == 1:
        ((operator, operand),) = condition.items()
        if operator == "$exists" and type(operand) is bool:
            return _exists_one(key, operand) if get is None else _exists(get, operand)
    fast = fast_path(condition)
    if fast is None:
        return _read_one(key, check) if get is None else _read(get, check)
    # A missing attribute (or null) is common, from events a user never sent to optional
    # traits, and its answer is a constant: none of these tests reads the time.
    missing = check(None, 0.0)
    if fast.members is not None:
        if get is None:
            return _member_one(key, fast.members, fast.negated, missing, check)
        return _member(get, fast.members, fast.negated, missing, check)
    assert fast.test is not None
    if fast.kind is float:
        if get is None:
            return _number_one(key, fast.test, missing, check)
        return _number(get, fast.test, missing, check)
    if get is None:
        return _typed_one(key, fast.kind, fast.test, missing, check)
    return _typed(get, fast.kind, fast.test, missing, check)


def fast_path(condition: Any) -> FastPath | None:
    """The fast path of a fused leaf testing ``condition``; None when it has none.

    >>> path = fast_path({"$nin": ["a", 1]})
    >>> path.kind, "a" in path.members, path.negated
    (<class 'str'>, True, True)
    >>> fast_path({"$gt": 5}).test(7), fast_path({"$regex": "^a"})
    (True, None)
    """
    kind = type(condition)
    if kind is str:
        return FastPath(str, members=frozenset((condition,)))
    if kind is bool:
        return FastPath(bool, test=condition.__eq__)
    if is_number(condition):
        return FastPath(float, test=_number_test("$eq", _as_float(condition)))
    if not (isinstance(condition, Mapping) and len(condition) == 1):
        return None
    ((operator, operand),) = condition.items()
    if operator in ("$eq", "$ne") and type(operand) is str:
        return FastPath(str, members=frozenset((operand,)), negated=operator == "$ne")
    if operator in ("$in", "$nin") and type(operand) is list:
        return FastPath(str, members=member_keys(operand), negated=operator == "$nin")
    if operator in _NUMBER_OPERATORS and is_number(operand):
        return FastPath(float, test=_number_test(operator, _as_float(operand)))
    if operator in VERSION_OPERATORS:
        return FastPath(str, test=version_text_test(operator, version_key(operand)))
    return None


def _as_float(number: float) -> float:
    return int_to_float(number) if type(number) is int else number


def _number_test(operator: str, bound: float) -> Test:
    """``value <operator> bound`` as a method of the bound: ``value > bound`` is ``bound < value``.

    ``float`` compares exactly with an ``int``, which is JavaScript's answer for the ints the
    fast path takes (up to 2**53, where every int is exactly a double).
    """
    if operator == "$gt":
        return bound.__lt__
    if operator == "$gte":
        return bound.__le__
    if operator == "$lt":
        return bound.__gt__
    if operator == "$lte":
        return bound.__ge__
    if operator == "$ne":
        return bound.__ne__
    return bound.__eq__


# The closures. Each reads a one-part path inline (``attributes.get(key)`` for a dict, the
# common case) or a longer one with its getter, then takes the fast path or falls back to
# the general predicate. A one-part read returns dates as they are, so the fallback turns
# them into text first, as the getters do.


def _read_one(key: str, check: Predicate) -> Predicate:
    def read_and_check(attributes: Any, now: float) -> bool:
        value: Any = attributes.get(key) if type(attributes) is dict else step(attributes, key)
        if value.__class__ in TIME_TYPES:
            value = value.isoformat()
        return check(value, now)

    return read_and_check


def _read(get: Getter, check: Predicate) -> Predicate:
    return lambda attributes, now: check(get(attributes), now)


def _member_one(
    key: str, members: frozenset[Any], negated: bool, missing: bool, check: Predicate
) -> Predicate:
    def read_and_look_up(attributes: Any, now: float) -> bool:
        value: Any = attributes.get(key) if type(attributes) is dict else step(attributes, key)
        if type(value) is str:
            return (value in members) is not negated  # a bool, flipped when negated
        if value is None:
            return missing
        return check(time_to_text(value), now)

    return read_and_look_up


def _member(
    get: Getter, members: frozenset[Any], negated: bool, missing: bool, check: Predicate
) -> Predicate:
    def read_and_look_up(attributes: Any, now: float) -> bool:
        value = get(attributes)
        if type(value) is str:
            return (value in members) is not negated
        if value is None:
            return missing
        return check(value, now)

    return read_and_look_up


def _typed_one(key: str, kind: type, test: Test, missing: bool, check: Predicate) -> Predicate:
    def read_and_test(attributes: Any, now: float) -> bool:
        value: Any = attributes.get(key) if type(attributes) is dict else step(attributes, key)
        if type(value) is kind:
            return test(value)
        if value is None:
            return missing
        return check(time_to_text(value), now)

    return read_and_test


def _typed(get: Getter, kind: type, test: Test, missing: bool, check: Predicate) -> Predicate:
    def read_and_test(attributes: Any, now: float) -> bool:
        value = get(attributes)
        if type(value) is kind:
            return test(value)
        if value is None:
            return missing
        return check(value, now)

    return read_and_test


def _number_one(key: str, test: Test, missing: bool, check: Predicate) -> Predicate:
    def read_and_compare(attributes: Any, now: float) -> bool:
        value: Any = attributes.get(key) if type(attributes) is dict else step(attributes, key)
        kind = type(value)
        if kind is int:
            if -_SAFE <= value <= _SAFE:
                return test(value)
        elif kind is float:
            return test(value)
        elif value is None:
            return missing
        return check(time_to_text(value), now)

    return read_and_compare


def _number(get: Getter, test: Test, missing: bool, check: Predicate) -> Predicate:
    def read_and_compare(attributes: Any, now: float) -> bool:
        value = get(attributes)
        kind = type(value)
        if kind is int:
            if -_SAFE <= value <= _SAFE:
                return test(value)
        elif kind is float:
            return test(value)
        elif value is None:
            return missing
        return check(value, now)

    return read_and_compare


def _exists_one(key: str, present: bool) -> Predicate:
    def read_and_test(attributes: Any, now: float) -> bool:
        value: Any = attributes.get(key) if type(attributes) is dict else step(attributes, key)
        return (value is not None) is present

    return read_and_test


def _exists(get: Getter, present: bool) -> Predicate:
    return lambda attributes, now: (get(attributes) is not None) is present
