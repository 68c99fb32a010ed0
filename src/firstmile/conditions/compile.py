"""Compile a JSON condition once into nested closures, then evaluate it many times.

Everything about the condition is decided here, when it is compiled: which operator each key
is, whether each operand is valid, which saved group each ``$inGroup`` names, what each
regular expression compiles to. Evaluation only walks the closures, never the JSON.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from firstmile.conditions.context import (
    Path,
    Predicate,
    all_of,
    always_false,
    always_true,
    any_of,
    describe,
    is_scalar,
    negate,
    show,
)
from firstmile.conditions.jsvalues import js_string
from firstmile.conditions.leaves import leaf
from firstmile.conditions.literals import literal
from firstmile.conditions.operators import OPERATORS, operator_predicate
from firstmile.conditions.timestamps import now_seconds
from firstmile.errors import ConditionError

SavedGroups = Mapping[str, Any]
_EXAMPLE: Final = '{"country": "FR", "age": {"$gte": 18}}'


class CompiledCondition:
    """A condition compiled to a predicate: ``compiled(attributes) -> bool``.

    Calling it is pure (no I/O, no clock unless the condition uses relative time, no
    mutation of ``attributes``) and safe from any number of threads.

    ``attributes`` lists the attribute paths the condition reads (as written, such as
    ``"events.Completed Step.count_7d"``; paths inside ``$elemMatch`` are relative to the list
    items and not listed), so that a caller can skip it when none of them changed.
    ``uses_time`` tells whether it has relative-time operators (``$within``, ``$olderThan``),
    whose answer changes as time passes without any attribute changing.

    >>> adult_fr = compile_condition({"country": "FR", "age": {"$gte": 18}})
    >>> adult_fr({"country": "FR", "age": 30}), adult_fr({"country": "FR"})
    (True, False)
    >>> sorted(adult_fr.attributes), adult_fr.uses_time
    (['age', 'country'], False)
    """

    __slots__ = ("_predicate", "attributes", "condition", "uses_time")

    def __init__(
        self,
        predicate: Predicate,
        *,
        condition: Any,
        attributes: frozenset[str],
        uses_time: bool,
    ) -> None:
        self._predicate = predicate
        self.condition = condition
        self.attributes = attributes
        self.uses_time = uses_time

    def __call__(self, attributes: Mapping[str, Any], *, now: datetime | None = None) -> bool:
        """Whether ``attributes`` match.

        ``now`` is the time that relative-time operators measure from: by default the current
        UTC time, read once per call; a naive datetime is taken as UTC. Conditions without
        relative time never read the clock.
        """
        if self.uses_time:
            return self._predicate(attributes, now_seconds(now))
        return self._predicate(attributes, 0.0)

    @property
    def predicate(self) -> Predicate:
        """The compiled predicate ``(attributes, now) -> bool`` that a call runs.

        ``now`` is epoch seconds (:func:`~firstmile.conditions.timestamps.now_seconds`);
        when ``uses_time`` is false it is not read (a call passes ``0.0``). For callers
        that evaluate many conditions at one time and convert ``now`` once.
        """
        return self._predicate

    def __repr__(self) -> str:
        return (
            f"CompiledCondition({show(self.condition)}, attributes={sorted(self.attributes)}, "
            f"uses_time={self.uses_time})"
        )


class _Compiler:
    """One compilation: the options, and what it learns about the condition on the way."""

    def __init__(self, saved_groups: SavedGroups | None, *, strict: bool) -> None:
        self.strict = strict
        self.saved_groups = saved_groups
        self.attributes: set[str] = set()
        self.uses_time = False
        self._item_depth = 0  # > 0 inside an $elemMatch condition, whose paths are relative

    # -- the Context interface the operators use ----------------------------------------------

    def reject(self, path: Path, problem: str) -> Predicate:
        if self.strict:
            raise ConditionError(problem, path=path)
        return always_false

    def mark_time(self) -> None:
        self.uses_time = True

    def saved_group(self, name: Any, path: Path) -> Sequence[Any]:
        key = name if type(name) is str else js_string(name)
        groups = self.saved_groups or {}
        if key not in groups:
            close = difflib.get_close_matches(key, [str(g) for g in groups], n=1)
            if close:
                hint = f"did you mean {show(close[0])}?"
            elif groups:
                hint = "the saved groups are " + ", ".join(show(str(g)) for g in groups)
            else:
                hint = "no saved groups are defined; add it under saved_groups"
            self.reject(path, f"there is no saved group {show(key)}; {hint}")
            return ()
        ids = groups[key]
        if not isinstance(ids, list | tuple | set | frozenset):
            self.reject(
                path, f"saved group {show(key)} must be a list of ids, not {describe(ids)}."
            )
            return ()
        return list(ids)

    def condition(self, condition: Any, path: Path) -> Predicate:
        self._item_depth += 1
        try:
            return self.compile(condition, path)
        finally:
            self._item_depth -= 1

    def value_condition(
        self, condition: Any, path: Path, *, insensitive: bool = False
    ) -> Predicate:
        if isinstance(condition, Mapping) and condition:
            operators = [str(key) for key in condition if str(key).startswith("$")]
            if len(operators) == len(condition):
                return all_of(
                    [
                        operator_predicate(str(op), operand, self, (*path, str(op)))
                        for op, operand in condition.items()
                    ]
                )
            if operators:
                plain = [str(key) for key in condition if not str(key).startswith("$")]
                self.reject(
                    path,
                    f"this object mixes operators ({', '.join(operators)}) with plain keys "
                    f"({', '.join(plain)}); an operator object has only $-keys, such as "
                    '{"$gte": 1, "$lte": 5}.',
                )
        elif not _is_json(condition):
            return self.reject(path, f"{describe(condition)} is not a JSON value.")
        return literal(condition, insensitive=insensitive)

    # -- conditions ---------------------------------------------------------------------------

    def compile(self, condition: Any, path: Path) -> Predicate:
        if not isinstance(condition, Mapping):
            return self.reject(
                path,
                f"a condition is an object of attribute names and values, such as {_EXAMPLE}; "
                f"got {describe(condition)}.",
            )
        parts: list[Predicate] = []
        for raw_key, value in condition.items():
            key = str(raw_key)
            here = (*path, key)
            if key == "$and":
                subs = self._conditions(value, here)
                parts.append(always_false if subs is None else all_of(subs))
            elif key == "$or":
                subs = self._conditions(value, here)
                # An empty $or passes, as in GrowthBook.
                parts.append(
                    always_false if subs is None else any_of(subs) if subs else always_true
                )
            elif key == "$nor":
                subs = self._conditions(value, here)
                if subs == []:
                    subs = None
                    self.reject(here, "an empty $nor never matches (in GrowthBook too); remove it.")
                parts.append(always_false if subs is None else negate(any_of(subs)))
            elif key == "$not":
                parts.append(negate(self.compile(value, here)))
            else:
                parts.append(self._attribute(key, value, here))
        return all_of(parts)

    def _conditions(self, value: Any, path: Path) -> list[Predicate] | None:
        operator = str(path[-1])
        if type(value) is not list:
            self.reject(
                path,
                f"{operator} needs a list of conditions, got {describe(value)}; for example "
                f'{{"{operator}": [{{"plan": "pro"}}, {{"seats": {{"$gt": 5}}}}]}}.',
            )
            return None
        return [self.compile(item, (*path, index)) for index, item in enumerate(value)]

    def _attribute(self, key: str, value: Any, path: Path) -> Predicate:
        if key in OPERATORS:
            self.reject(
                path,
                f"{key} is an operator on a value, so it goes under an attribute name: "
                f'{{"attribute": {{"{key}": {show(value)}}}}}.',
            )
        elif "" in key.split("."):
            self.reject(path, f"the attribute path {show(key)} has an empty part.")
        check = self.value_condition(value, path)
        if not self._item_depth:
            self.attributes.add(key)
        if check is always_true or check is always_false:
            return check
        return leaf(key, value, check)


def _is_json(value: Any) -> bool:
    return is_scalar(value) or type(value) is list or isinstance(value, Mapping)


def compile_condition(
    condition: Mapping[str, Any],
    saved_groups: SavedGroups | None = None,
    *,
    strict: bool = True,
) -> CompiledCondition:
    """Compile a condition (GrowthBook's MongoDB-style JSON) to a :class:`CompiledCondition`.

    ``saved_groups`` maps a group name to its list of ids, for ``$inGroup`` and
    ``$notInGroup``.

    With ``strict=True`` (the default) anything that cannot mean what its author wanted
    raises :class:`~firstmile.errors.ConditionError`, whose ``path`` points at the part to
    fix: an unknown operator, an operand of the wrong type, an invalid regular expression,
    an unknown saved group. With ``strict=False``, as GrowthBook's SDKs do, such a part
    evaluates to false instead (so ``{"$not": {...}}`` around it is true).

    >>> compile_condition({"age": {"$gte": 18}})({"age": "21"})
    True
    >>> compile_condition({"age": {"$gtt": 18}})
    Traceback (most recent call last):
    ...
    firstmile.errors.ConditionError: Invalid condition at /age/$gtt: $gtt is not an operator on a value; did you mean $gt?
    >>> compile_condition({"age": {"$gtt": 18}}, strict=False)({"age": 30})
    False
    """  # noqa: E501
    compiler = _Compiler(saved_groups, strict=strict)
    predicate = compiler.compile(condition, ())
    return CompiledCondition(
        predicate,
        condition=condition,
        attributes=frozenset(compiler.attributes),
        uses_time=compiler.uses_time,
    )


def evaluate(
    condition: Mapping[str, Any],
    attributes: Mapping[str, Any],
    saved_groups: SavedGroups | None = None,
    *,
    now: datetime | None = None,
    strict: bool = True,
) -> bool:
    """Compile ``condition`` and evaluate it on ``attributes`` once.

    To evaluate the same condition many times, compile it once with
    :func:`compile_condition` and call the result.

    >>> evaluate({"signed_up_at": {"$within": "7d"}}, {"signed_up_at": "2026-11-20T10:00:00Z"},
    ...          now=datetime.fromisoformat("2026-11-25T10:00:00+00:00"))
    True
    """
    compiled = compile_condition(condition, saved_groups, strict=strict)
    return compiled(attributes, now=now)
