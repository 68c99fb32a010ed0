"""docs/experiments.md documents every assignment reason and every definition field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from firstmile.experiments import AssignmentReason, Experiment

PAGE = Path(__file__).resolve().parents[3] / "docs" / "experiments.md"


def test_every_assignment_reason_is_documented() -> None:
    page = PAGE.read_text(encoding="utf-8")
    missing = [reason.value for reason in AssignmentReason if f"| `{reason.value}` |" not in page]
    assert not missing


def test_every_definition_field_is_documented() -> None:
    page = PAGE.read_text(encoding="utf-8")
    fields = [field.name for field in dataclasses.fields(Experiment) if field.init]
    assert [name for name in fields if f"| `{name}` |" not in page] == []
