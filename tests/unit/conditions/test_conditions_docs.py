"""docs/conditions.md documents every operator, and its example errors are the real ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from firstmile.conditions import compile_condition
from firstmile.conditions.operators import LOGICAL, OPERATORS, TYPE_NAMES
from firstmile.errors import ConditionError

PAGE = (Path(__file__).resolve().parents[3] / "docs" / "conditions.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("operator", [*OPERATORS, *LOGICAL])
def test_every_operator_is_documented(operator: str) -> None:
    assert f"`{operator}`" in PAGE


def test_every_type_name_is_documented() -> None:
    for name in TYPE_NAMES:
        assert f'`"{name}"`' in PAGE


@pytest.mark.parametrize(
    "condition",
    [
        {"age": {"$gtt": 18}},
        {"$or": [{"plan": "pro"}, {"tags": {"$in": "vip"}}]},
        {"signed_up_at": {"$within": "1 week"}},
    ],
)
def test_the_example_errors_are_current(condition: dict[str, Any]) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(condition)
    assert caught.value.message in PAGE
