"""``python3 -m cdgen.deploy``: the composite action's entry point."""

from __future__ import annotations

import sys

from cdgen.deploy.cli import main

if __name__ == "__main__":
    sys.exit(main())
