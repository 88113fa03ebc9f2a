"""Command line (placeholder until the core lands)."""

from __future__ import annotations


def main() -> None:
    raise SystemExit(0)
