"""Settings for every test; shared helpers live in tests/support (an importable package)."""

from __future__ import annotations

import os
from pathlib import Path

# Output depends on the commit cdgen was built from (it pins its own action to it): the
# tests, the goldens and the bundled example all use this one (./dev example sets it too).
STAMP = Path(__file__).resolve().parent / "data" / "build-stamp.json"
os.environ["CDGEN_BUILD_STAMP"] = STAMP.read_text(encoding="utf-8").strip()
