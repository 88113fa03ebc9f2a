"""Descriptor in, every generated file out: one golden file per scenario.

Regenerate with `pytest tests/golden_test.py --update-goldens` and review the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.generated import render_descriptor


@pytest.mark.golden_test("goldens/*.yml")
def test_scenario(golden: Any, tmp_path: Path) -> None:
    files = render_descriptor(tmp_path, golden["descriptor"])
    assert files == golden.out["files"]
