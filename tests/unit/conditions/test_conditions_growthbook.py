"""GrowthBook's own SDK conformance cases (the `evalCondition` section of its cases.json).

The file is not part of the repository: it is read from `$FIRSTMILE_GROWTHBOOK_CASES`, or from
`../shared/reference/growthbook-cases.json` beside the repository, and the tests are skipped
when neither exists. GrowthBook expects invalid parts (an unknown operator, a bad regex, `$in`
with a non-list) to evaluate to false, so these cases run in lenient mode (`strict=False`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from firstmile.conditions import CompiledCondition, compile_condition, evaluate
from firstmile.errors import ConditionError

REPO_ROOT = Path(__file__).resolve().parents[3]


def _cases_file() -> Path | None:
    candidates = [os.environ.get("FIRSTMILE_GROWTHBOOK_CASES", "")]
    candidates.append(str(REPO_ROOT.parent / "shared" / "reference" / "growthbook-cases.json"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


CASES_FILE = _cases_file()
SKIP_REASON = (
    "GrowthBook's cases file is absent: set FIRSTMILE_GROWTHBOOK_CASES or place it at "
    "../shared/reference/growthbook-cases.json"
)


def _cases() -> list[Any]:
    if CASES_FILE is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=SKIP_REASON), id="absent")]
    cases = json.loads(CASES_FILE.read_text(encoding="utf-8"))["evalCondition"]
    return [pytest.param(case, id=f"{index}: {case[0]}") for index, case in enumerate(cases)]


@pytest.mark.parametrize("case", _cases())
def test_growthbook_eval_condition_case(case: list[Any]) -> None:
    _name, condition, attributes, expected, *rest = case
    saved_groups = rest[0] if rest else None
    assert evaluate(condition, attributes, saved_groups, strict=False) is expected
    # Strict mode either agrees or rejects the condition with a precise error.
    strict = _compile_strictly(condition, saved_groups)
    if isinstance(strict, ConditionError):
        assert strict.field
        assert strict.field.startswith("/")
    else:
        assert strict(attributes) is expected


def _compile_strictly(condition: Any, saved_groups: Any) -> CompiledCondition | ConditionError:
    try:
        return compile_condition(condition, saved_groups)
    except ConditionError as err:
        return err


@pytest.mark.skipif(CASES_FILE is None, reason=SKIP_REASON)
def test_the_growthbook_section_is_complete() -> None:
    assert CASES_FILE is not None
    spec = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    assert len(spec["evalCondition"]) >= 248
