"""Who a user is, for hashing: the hash attribute's value, else the fallback attribute's.

As in GrowthBook, only a non-empty string or a finite, non-zero number identifies a user
(numbers are written as JavaScript's ``String(n)`` would); anything else counts as missing.
Attributes are read at the top level of the attributes object (no dotted paths).

>>> hash_identity({"id": 42, "anonymous_id": "a1"}, "id", "anonymous_id")
('id', '42')
>>> hash_identity({"id": "", "anonymous_id": "a1"}, "id", "anonymous_id")
('anonymous_id', 'a1')
>>> hash_identity({"id": None}, "id", None) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from firstmile.conditions.jsvalues import int_to_float, number_to_string


def hashable_string(value: Any) -> str | None:
    """The string a value is hashed as, or None when it cannot identify a user.

    >>> hashable_string("u1"), hashable_string(7.0), hashable_string(0), hashable_string(True)
    ('u1', '7', None, None)
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = int_to_float(value) if isinstance(value, int) else value
    if number != 0 and math.isfinite(number):
        return number_to_string(number)
    return None


def hash_identity(
    attributes: Mapping[str, Any], attribute: str, fallback: str | None
) -> tuple[str, str] | None:
    """``(attribute, value)`` to hash the user by, or None when neither attribute is usable."""
    value = hashable_string(attributes.get(attribute))
    if value is not None:
        return attribute, value
    if fallback is not None:
        value = hashable_string(attributes.get(fallback))
        if value is not None:
            return fallback, value
    return None


def identities(
    attributes: Mapping[str, Any], attribute: str, fallback: str | None
) -> tuple[tuple[str, str], ...]:
    """Every usable ``(attribute, value)`` of the user, the hash attribute first.

    >>> identities({"id": "u1", "anonymous_id": "a1"}, "id", "anonymous_id")
    (('id', 'u1'), ('anonymous_id', 'a1'))
    """
    found: list[tuple[str, str]] = []
    for name in (attribute, fallback):
        if name is not None:
            value = hashable_string(attributes.get(name))
            if value is not None:
                found.append((name, value))
    return tuple(found)
