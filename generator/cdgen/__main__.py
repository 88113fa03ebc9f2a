"""``python -m cdgen``: the command line, as the drift check runs it from a checkout."""

from __future__ import annotations

from cdgen.cli import run

if __name__ == "__main__":
    run()
