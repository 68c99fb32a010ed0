"""firstmile.bandits is pure: its imports, its exports, and its documentation."""

from __future__ import annotations

import ast
import doctest
import sys
from pathlib import Path

import pytest

import firstmile.bandits

PACKAGE = Path(firstmile.bandits.__file__).parent
PAGE = (Path(__file__).resolve().parents[3] / "docs" / "bandits.md").read_text(encoding="utf-8")
ALLOWED = {"numpy", "scipy", "__future__"} | set(sys.stdlib_module_names)
FIRSTMILE_ALLOWED = ("firstmile.bandits", "firstmile.stats", "firstmile.experiments")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_bandits_import_only_numpy_scipy_stats_experiments_and_the_standard_library() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for module in modules:
        for name in _imports(module):
            if name.startswith("firstmile"):
                assert name.startswith(FIRSTMILE_ALLOWED), f"{module.name} imports {name}"
            else:
                assert name.split(".")[0] in ALLOWED, f"{module.name} imports {name}"


def test_public_api_is_exported() -> None:
    for name in firstmile.bandits.__all__:
        assert hasattr(firstmile.bandits, name), name


@pytest.mark.parametrize("name", firstmile.bandits.__all__)
def test_every_public_name_is_documented(name: str) -> None:
    assert f"`{name}" in PAGE


def test_the_worked_example_runs_as_documented() -> None:
    # The fences become blank lines so that each example's expected output ends there.
    text = "\n".join("" if line.startswith("```") else line for line in PAGE.splitlines())
    test = doctest.DocTestParser().get_doctest(text, {}, "bandits.md", "docs/bandits.md", 0)
    assert len(test.examples) >= 30
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda report: pytest.fail(report, pytrace=False))
    assert runner.summarize(verbose=False).failed == 0
