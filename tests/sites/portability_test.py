"""The site engine runs from the action's checkout with the runner's bare python3, like the
rest of the engine: Python 3.9 syntax, the standard library only."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy.portability_test import test_module_is_python39_and_stdlib_only as check_module

SITE = Path(__file__).resolve().parents[2] / "generator" / "cdgen" / "deploy" / "site"


@pytest.mark.parametrize("module", sorted(SITE.glob("*.py")), ids=lambda path: path.name)
def test_site_module_is_python39_and_stdlib_only(module: Path) -> None:
    check_module(module)


def test_every_site_module_is_checked() -> None:
    assert {path.name for path in SITE.glob("*.py")} >= {"engine.py", "vercel.py", "cloudflare.py"}
