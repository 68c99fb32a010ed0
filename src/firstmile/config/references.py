"""Segments that read other segments (``segments.<key>``): unknown keys and cycles.

A condition reads membership as the attribute ``segments.<key>`` (true or false); a score
term may read it too, and then the score's threshold segments depend on it. Evaluation
follows :func:`evaluation_order`, so a segment is always evaluated after those it reads.

>>> evaluation_order({"a": {"b"}, "b": set(), "c": {"a"}})
(('b', 'a', 'c'), [])
>>> evaluation_order({"a": {"b"}, "b": {"a"}, "c": set()})
(('c',), [['a', 'b', 'a']])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from firstmile.config.model import SEGMENTS_ATTRIBUTE

PREFIX = SEGMENTS_ATTRIBUTE + "."


def segment_references(attributes: Iterable[str]) -> dict[str, str]:
    """``{segment key: attribute path}`` for each ``segments.<key>`` path read.

    >>> segment_references(["plan", "segments.new_this_week", "segments.x.y"])
    {'new_this_week': 'segments.new_this_week', 'x': 'segments.x.y'}
    """
    found: dict[str, str] = {}
    for attribute in sorted(attributes):
        if attribute.startswith(PREFIX):
            key = attribute[len(PREFIX) :].split(".", 1)[0]
            if key:
                found.setdefault(key, attribute)
    return found


def find_key(condition: Any, key: str, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...]:
    """Where ``key`` is written in a condition (through $and/$or/$nor/$not), or ``()``."""
    if isinstance(condition, dict):
        for name, value in condition.items():
            if name == key:
                return (*path, name)
            if name in ("$and", "$or", "$nor") and isinstance(value, list):
                for index, item in enumerate(value):
                    found = find_key(item, key, (*path, name, index))
                    if found:
                        return found
            elif name == "$not":
                found = find_key(value, key, (*path, name))
                if found:
                    return found
    return ()


def evaluation_order(
    reads: Mapping[str, set[str]],
) -> tuple[tuple[str, ...], list[list[str]]]:
    """Every key after the keys it reads (declared order otherwise), and the cycles.

    Keys read but not in ``reads`` are ignored (reported as unknown elsewhere). Each cycle
    is given once, as a closed walk (``a → b → a``).
    """
    known = {key: {r for r in deps if r in reads} for key, deps in reads.items()}
    order: list[str] = []
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for key, deps in known.items():
            if key not in done and deps <= done:
                order.append(key)
                done.add(key)
                progress = True
    cycles: list[list[str]] = []
    reported: set[str] = set()
    for start in known:
        if start in done or start in reported:
            continue
        walk = [start]
        while True:  # follow unresolved reads until a key repeats: that is a cycle
            following = sorted(d for d in known[walk[-1]] if d not in done)
            nxt = next((d for d in following if d in walk), following[0])
            if nxt in walk:
                cycle = [*walk[walk.index(nxt) :], nxt]
                if not reported.intersection(cycle):
                    cycles.append(cycle)
                reported.update(cycle)
                break
            walk.append(nxt)
        reported.add(start)
    return tuple(order), cycles
