"""The `paths` of a service, as in cdgen.yml: which changed files trigger it.

A path is relative to the repository root. Without wildcards it names a file or a folder
(everything under it; `.` is the whole repository); `folder/**` is the folder, itself
included (a submodule's bump is a change at the folder's own path). `*` stands for any
characters within one name, `?` for one character, `**` for any number of folders. A pattern
that matches a folder matches everything under it, so `src/*` covers `src/cart/main.go`.

Standard library only: the action runs it from its checkout (``mode: changes``), and
``cdgen validate`` uses it to warn about paths that match nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_WILDCARDS = re.compile(r"\*\*/|\*\*|\*|\?")


def _pattern_regex(pattern: str) -> str:
    """The regular expression of one pattern (without the trailing `/…` it also covers)."""
    parts: list[str] = []
    position = 0
    for match in _WILDCARDS.finditer(pattern):
        parts.append(re.escape(pattern[position : match.start()]))
        wildcard = match.group()
        if wildcard == "**/":
            parts.append("(?:[^/]+/)*")  # no folder at all, or any number of them
        elif wildcard == "**":
            parts.append(".*")
        elif wildcard == "*":
            parts.append("[^/]*")
        else:
            parts.append("[^/]")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return "".join(parts)


def normalize(pattern: str) -> str:
    """`./src/cart/` → `src/cart`; `.` (or `./`) stays the whole repository."""
    text = pattern.strip()
    while text.startswith("./"):
        text = text[2:]
    text = text.rstrip("/")
    return text or "."


def _folder_itself(pattern: str) -> str:
    """`libs/proto/**` → `libs/proto`: the folder covers everything under it, and the folder
    itself too (a submodule changes as one entry at the folder's own path)."""
    while pattern.endswith("/**") and len(pattern) > 3:
        pattern = pattern[:-3]
    return pattern


class PathMatcher:
    """Whether a repository-relative file path is covered by any of the patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(_folder_itself(normalize(p)) for p in patterns)
        self.everything = "." in self.patterns or "**" in self.patterns
        alternatives = [_pattern_regex(p) for p in self.patterns if p != "."]
        joined = "|".join(f"(?:{a})" for a in alternatives) or "(?!)"
        self._regex = re.compile(f"^(?:{joined})(?:/.*)?$", re.DOTALL)

    def matches(self, path: str) -> bool:
        return self.everything or self._regex.match(path) is not None

    def any_match(self, paths: Iterable[str]) -> bool:
        return any(self.matches(path) for path in paths)

    def first_match(self, paths: Iterable[str]) -> str | None:
        return next((path for path in paths if self.matches(path)), None)
