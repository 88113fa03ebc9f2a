"""The one error family of cdgen. The CLI maps CdgenError to exit 1."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Violation:
    """One problem found in an input file, at a 1-based line and column."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class CdgenError(Exception):
    """Base of every error cdgen reports to users (exit code 1)."""


class DescriptorError(CdgenError):
    """The descriptor cannot be used; carries every violation found, sorted by position."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = sorted(violations)
        super().__init__("\n".join(str(v) for v in self.violations))


class UsageError(CdgenError):
    """A command was called wrongly (exit code 2)."""


class DriftError(CdgenError):
    """Generated files differ from what cdgen would write now."""
