"""Run the language-neutral cases in tests/spec/conditions/*.json (one test per case)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from firstmile.conditions import compile_condition, evaluate

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "conditions"
SPEC_FILES = sorted(SPEC_DIR.glob("*.json"))
CASE_KEYS = {"description", "condition", "attributes", "expected", "saved_groups", "now"}


def _cases() -> list[Any]:
    params = []
    for path in SPEC_FILES:
        spec = json.loads(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            params.append(pytest.param(case, id=f"{path.stem}: {case['description']}"))
    return params


CASES = _cases()


def test_the_spec_files_are_well_formed() -> None:
    assert len(SPEC_FILES) >= 5
    descriptions: set[tuple[str, str]] = set()
    for path in SPEC_FILES:
        spec = json.loads(path.read_text(encoding="utf-8"))
        assert set(spec) == {"specVersion", "description", "cases"}, path.name
        assert spec["specVersion"] == "1.0.0"
        for case in spec["cases"]:
            assert set(case) <= CASE_KEYS, case
            assert {"description", "condition", "attributes", "expected"} <= set(case)
            assert isinstance(case["expected"], bool)
            text = case["description"]
            assert text, path.name
            assert "\n" not in text, text
            assert (path.stem, text) not in descriptions, f"duplicate description: {text}"
            descriptions.add((path.stem, text))
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES)
def test_spec_case(case: dict[str, Any]) -> None:
    now = datetime.fromisoformat(case["now"]) if "now" in case else None
    saved_groups = case.get("saved_groups")
    compiled = compile_condition(case["condition"], saved_groups)
    assert compiled(case["attributes"], now=now) is case["expected"]
    # The one-shot form and the lenient mode agree on valid conditions.
    assert (
        evaluate(case["condition"], case["attributes"], saved_groups, now=now) is case["expected"]
    )
    lenient = compile_condition(case["condition"], saved_groups, strict=False)
    assert lenient(case["attributes"], now=now) is case["expected"]
