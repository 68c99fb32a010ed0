"""The attributes a context tree splits on, read as the condition language reads them.

Only :class:`TreeAttribute` is public (re-exported by ``firstmile.bandits``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from firstmile.bandits._common import check_key

_DECIMAL: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
AttributeKind = Literal["categorical", "numeric"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TreeAttribute:
    """An attribute path the tree may split on (``"device.type"``), and how."""

    path: str
    kind: AttributeKind = "categorical"

    def __post_init__(self) -> None:
        check_key(self.path, "an attribute path")
        if self.kind not in ("categorical", "numeric"):
            raise ValueError(
                f"attribute {self.path!r}: kind must be 'categorical' or 'numeric', "
                f"got {self.kind!r}"
            )


@dataclass(frozen=True, slots=True)
class Column:
    attribute: TreeAttribute
    codes: IntArray  # categorical: category index, -1 for values equal to no category
    categories: tuple[Any, ...]
    numbers: FloatArray  # numeric: the value as conditions compare it; NaN: not comparable


def read(attributes: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, as the condition language reads it (None when missing)."""
    current: Any = attributes
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list):
            if part == "length":
                current = len(current)
            elif part.isascii() and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return None
        else:
            return None
    if isinstance(current, datetime | date):
        return current.isoformat()
    return current


def build_column(attribute: TreeAttribute, values: list[Any]) -> Column:
    n = len(values)
    if attribute.kind == "numeric":
        numbers = np.array([_comparable(value) for value in values], dtype=np.float64)
        return Column(attribute, np.full(n, -1, dtype=np.int64), (), numbers)
    keys: dict[tuple[str, Any], int] = {}
    categories: list[Any] = []
    codes = np.full(n, -1, dtype=np.int64)
    for i, value in enumerate(values):
        key = _category_key(value)
        if key is None:
            continue
        if key not in keys:
            keys[key] = len(categories)
            categories.append(value)
        codes[i] = keys[key]
    return Column(attribute, codes, tuple(categories), np.full(n, np.nan))


def _category_key(value: Any) -> tuple[str, Any] | None:
    """Strict-equality identity of a scalar (``1 === 1.0``, ``true !== 1``); None otherwise."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, int | float) and math.isfinite(value):
        return ("number", float(value))
    return None


def _comparable(value: Any) -> float:
    """The number ``$lt``/``$gte`` compare ``value`` as, or NaN when it never compares."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if _DECIMAL.fullmatch(text):
            return float(text)
    return math.nan
