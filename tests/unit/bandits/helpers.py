"""Shared test helpers: NaN checks on results."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any


def assert_nan_free(value: Any, path: str = "result") -> None:
    """Every number anywhere in a result (dataclasses, tuples, dicts) is finite or None."""
    if isinstance(value, float):
        assert math.isfinite(value), f"{path} = {value}"
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            assert_nan_free(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            assert_nan_free(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_nan_free(item, f"{path}[{key!r}]")
