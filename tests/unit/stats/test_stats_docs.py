"""docs/stats.md documents the whole public API of firstmile.stats."""

from __future__ import annotations

from pathlib import Path

import pytest

import firstmile.stats

PAGE = (Path(__file__).resolve().parents[3] / "docs" / "stats.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", firstmile.stats.__all__)
def test_every_public_name_is_documented(name: str) -> None:
    assert f"`{name}" in PAGE
