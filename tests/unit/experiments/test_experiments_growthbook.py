"""GrowthBook's own SDK conformance cases for assignment: the ``hash``, ``getBucketRange``,
``chooseVariation``, ``inNamespace`` and ``getEqualWeights`` sections of its cases.json.

The file is not part of the repository: it is read from `$FIRSTMILE_GROWTHBOOK_CASES`, or from
`../shared/reference/growthbook-cases.json` beside the repository, and the tests are skipped
when neither exists (as for the `evalCondition` section in tests/unit/conditions).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firstmile import experiments

REPO_ROOT = Path(__file__).resolve().parents[3]
SECTIONS = ("hash", "getBucketRange", "chooseVariation", "inNamespace", "getEqualWeights")
LABELS: dict[str, Callable[[list[Any]], str]] = {  # cases that do not start with a name
    "hash": lambda case: f"hash({case[0]!r}, {case[1]!r}, {case[2]})",
    "getEqualWeights": lambda case: f"{case[0]} variations",
}


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


def _spec() -> dict[str, Any]:
    assert CASES_FILE is not None
    spec: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return spec


def _cases(section: str) -> list[Any]:
    if CASES_FILE is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=SKIP_REASON), id="absent")]
    params = []
    for index, case in enumerate(_spec()[section]):
        label = LABELS[section](case) if section in LABELS else case[0]
        params.append(pytest.param(case, id=f"{index}: {label}"))
    return params


@pytest.mark.parametrize("case", _cases("hash"))
def test_growthbook_hash_case(case: list[Any]) -> None:
    seed, value, version, expected = case
    assert experiments.hash(seed, value, version) == expected


@pytest.mark.parametrize("case", _cases("getBucketRange"))
def test_growthbook_get_bucket_range_case(case: list[Any]) -> None:
    _name, (num_variations, coverage, weights), expected = case
    ranges = experiments.get_bucket_ranges(num_variations, coverage, weights)
    assert len(ranges) == len(expected)
    flat = [bound for bucket in ranges for bound in bucket]
    assert flat == pytest.approx([bound for bucket in expected for bound in bucket], abs=1e-9)


@pytest.mark.parametrize("case", _cases("chooseVariation"))
def test_growthbook_choose_variation_case(case: list[Any]) -> None:
    _name, n, ranges, expected = case
    assert experiments.choose_variation(n, [tuple(bucket) for bucket in ranges]) == expected


@pytest.mark.parametrize("case", _cases("inNamespace"))
def test_growthbook_in_namespace_case(case: list[Any]) -> None:
    _name, hash_value, (name, start, end), expected = case
    assert experiments.in_namespace(hash_value, (name, start, end)) is expected
    assert experiments.in_namespace(hash_value, experiments.Namespace(name, start, end)) is expected


@pytest.mark.parametrize("case", _cases("getEqualWeights"))
def test_growthbook_get_equal_weights_case(case: list[Any]) -> None:
    num_variations, expected = case
    weights = experiments.get_equal_weights(num_variations)
    assert [round(weight, 8) for weight in weights] == expected


def test_the_environment_variable_names_the_cases_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("FIRSTMILE_GROWTHBOOK_CASES", str(cases))
    assert _cases_file() == cases


@pytest.mark.skipif(CASES_FILE is None, reason=SKIP_REASON)
def test_the_growthbook_sections_are_complete() -> None:
    spec = _spec()
    sizes = {section: len(spec[section]) for section in SECTIONS}
    assert sizes == {
        "hash": 15,
        "getBucketRange": 13,
        "chooseVariation": 13,
        "inNamespace": 16,
        "getEqualWeights": 6,
    }
