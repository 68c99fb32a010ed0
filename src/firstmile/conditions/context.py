"""What operator factories share: the predicate type, the compiler's interface, combinators.

A compiled condition is a tree of closures with one signature, ``(value, now) -> bool``:
``value`` is the attributes object (for a condition) or one attribute's value (for a value
condition), and ``now`` is the evaluation time in seconds since the epoch (only the
relative-time operators look at it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

Path = tuple[str | int, ...]
Predicate = Callable[[Any, float], bool]


def always_true(value: Any, now: float) -> bool:
    return True


def always_false(value: Any, now: float) -> bool:
    return False


def negate(predicate: Predicate) -> Predicate:
    if predicate is always_true:
        return always_false
    if predicate is always_false:
        return always_true
    return lambda value, now: not predicate(value, now)


def all_of(predicates: Sequence[Predicate]) -> Predicate:
    """A predicate true when every one is (true for none), short-circuiting in order."""
    preds = [p for p in predicates if p is not always_true]
    if always_false in preds:
        return always_false
    if not preds:
        return always_true
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda value, now: first(value, now) and second(value, now)
    if len(preds) == 3:
        first, second, third = preds
        return lambda value, now: first(value, now) and second(value, now) and third(value, now)
    chain = tuple(preds)

    def every(value: Any, now: float) -> bool:
        for predicate in chain:  # noqa: SIM110 (a loop beats all() on a generator)
            if not predicate(value, now):
                return False
        return True

    return every


def any_of(predicates: Sequence[Predicate]) -> Predicate:
    """A predicate true when one of them is (false for none), short-circuiting in order."""
    preds = [p for p in predicates if p is not always_false]
    if always_true in preds:
        return always_true
    if not preds:
        return always_false
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda value, now: first(value, now) or second(value, now)
    chain = tuple(preds)

    def some(value: Any, now: float) -> bool:
        for predicate in chain:  # noqa: SIM110 (a loop beats any() on a generator)
            if predicate(value, now):
                return True
        return False

    return some


class Context(Protocol):
    """The compiler, as the operator factories see it."""

    strict: bool

    def reject(self, path: Path, problem: str) -> Predicate:
        """Strict mode: raise ConditionError at ``path``; lenient mode: return always_false."""
        ...

    def value_condition(
        self, condition: Any, path: Path, *, insensitive: bool = False
    ) -> Predicate:
        """Compile what may follow an attribute name: a literal or an operator object."""
        ...

    def condition(self, condition: Any, path: Path) -> Predicate:
        """Compile a nested condition on an element of a list (for ``$elemMatch``)."""
        ...

    def saved_group(self, name: Any, path: Path) -> Sequence[Any]:
        """The ids of a saved group (rejects an unknown group in strict mode)."""
        ...

    def mark_time(self) -> None:
        """Record that the condition depends on the current time."""
        ...


OperatorFactory = Callable[[Any, Context, Path], Predicate]


def show(value: Any, limit: int = 60) -> str:
    """A value as compact JSON for an error message."""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(value: Any) -> str:
    """What a value is, in words: ``the string "a"``, ``a list``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {show(value)}"
    if isinstance(value, int | float):
        return f"the number {show(value)}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, list):
        return f"the list {show(value)}"
    if isinstance(value, dict):
        return f"the object {show(value)}"
    return f"a {type(value).__name__}"


def is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def is_scalar(value: Any) -> bool:
    return value is None or type(value) in (str, bool, int, float)
