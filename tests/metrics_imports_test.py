"""`cdgen metrics` talks to GitHub with the standard library only: no HTTP client package
joins cdgen's dependencies for it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

METRICS = Path(__file__).resolve().parents[1] / "generator" / "cdgen" / "metrics"


def imported_roots(module: Path) -> set[str]:
    """Every top-level package a module imports, at module level or inside a function."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add((node.module or "").split(".")[0])
    return roots


@pytest.mark.parametrize("module", sorted(METRICS.glob("*.py")), ids=lambda path: path.name)
def test_metrics_imports_only_the_standard_library_and_cdgen(module: Path) -> None:
    outside = imported_roots(module) - set(sys.stdlib_module_names) - {"__future__", "cdgen"}
    assert not outside, f"{module.name} imports {sorted(outside)}"


def test_the_github_client_speaks_http_through_urllib() -> None:
    assert {"urllib", "http"} & imported_roots(METRICS / "client.py")
