"""Attribute paths: ``"father.age"`` reads ``attributes["father"]["age"]``.

A path is split on every dot, and each part is a key as written, spaces included, so
event-derived attributes read naturally: ``"events.Completed Step.count_7d"`` reads
``attributes["events"]["Completed Step"]["count_7d"]``. As in GrowthBook's ``getPath``, a
missing key, or a value that is not an object part-way down, reads as ``None`` (JSON null);
a part of a list may be an index (``"tags.0"``) or ``length``.

A ``datetime`` or ``date`` value is read as its ISO-8601 string, as JSON would carry it.

>>> get = compile_getter("events.Completed Step.count_7d")
>>> get({"events": {"Completed Step": {"count_7d": 3}}})
3
>>> get({"events": "none"}) is None
True
>>> compile_getter("tags.1")({"tags": ["a", "b"]}), compile_getter("tags.length")({"tags": []})
('b', 0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from firstmile.conditions.jsvalues import TIME_TYPES

Getter = Callable[[Any], Any]


def _list_item(items: list[Any], key: str) -> Any:
    if key == "length":
        return len(items)
    if key.isascii() and key.isdigit() and (key == "0" or key[0] != "0"):
        index = int(key)
        if index < len(items):
            return items[index]
    return None


def step(current: Any, key: str) -> Any:
    """One part of the path, for anything that is not a plain dict."""
    if type(current) is list:
        return _list_item(current, key)
    if isinstance(current, Mapping):
        return current.get(key)
    return None


def _time_to_text(value: Any) -> Any:
    return value.isoformat() if value.__class__ in TIME_TYPES else value


def compile_getter(path: str) -> Getter:
    """A function reading ``path`` from an attributes object."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (key,) = parts

        def get_one(obj: Any) -> Any:
            value = obj.get(key) if type(obj) is dict else step(obj, key)
            return value.isoformat() if value.__class__ in TIME_TYPES else value

        return get_one

    def get_many(obj: Any) -> Any:
        for key in parts:
            obj = obj.get(key) if type(obj) is dict else step(obj, key)
            if obj is None:
                return None
        return _time_to_text(obj)

    return get_many
