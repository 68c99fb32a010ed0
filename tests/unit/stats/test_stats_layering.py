"""firstmile.stats is a leaf: numpy, scipy and the standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import firstmile.stats

PACKAGE = Path(firstmile.stats.__file__).parent
ALLOWED = {"numpy", "scipy", "__future__"} | set(sys.stdlib_module_names)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_stats_imports_only_numpy_scipy_and_the_standard_library() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for module in modules:
        for name in _imports(module):
            if name == "firstmile.stats" or name.startswith("firstmile.stats."):
                continue
            assert name.split(".")[0] in ALLOWED, f"{module.name} imports {name}"


def test_public_api_is_exported() -> None:
    for name in firstmile.stats.__all__:
        assert hasattr(firstmile.stats, name), name
