"""A bounded walk of a repository's folders for `cdgen init`.

Detection looks everywhere a project keeps its own files, never in dependencies, build
output or version control, and never for long: the walk stops at MAX_DEPTH folders deep,
MAX_FOLDERS folders and MAX_FILES matching files, and says so in a note. Symbolic links
are not followed, so a link cannot lead the walk out of the repository or round in a loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path

# Dependencies, build output, caches and version control: never this repository's own.
SKIPPED_FOLDERS = frozenset(
    {
        ".cache",
        ".git",
        ".github",
        ".hg",
        ".idea",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
        ".tox",
        ".venv",
        ".vscode",
        "__pycache__",
        "bower_components",
        "dist",
        "node_modules",
        "target",
        "third_party",
        "third-party",
        "vendor",
        "venv",
    }
)
MAX_DEPTH = 6
MAX_FILES = 1000
MAX_FOLDERS = 5000


def find_files(
    root: Path,
    wanted: Callable[[str], bool],
    notes: list[str],
    *,
    what: str,
    skip_hidden: bool = False,
) -> list[Path]:
    """The files whose name is `wanted`, in path order, within the walk's bounds.

    `what` names them in the notes ("YAML files"); `skip_hidden` also leaves out folders
    whose name starts with '.' (a dev container's Dockerfile is no service of the project).
    The walk goes breadth first: its folder budget goes to the shallow folders, where
    services live, so one folder holding thousands (data, fixtures) hides nothing beside it.
    """
    files: list[Path] = []
    level, depth, visited = [root], 0, 0
    while level:
        groups: list[list[Path]] = []
        for folder in level:
            if visited == MAX_FOLDERS:
                notes.append(f"{what} were looked for in the first {MAX_FOLDERS} folders only.")
                return _in_path_order(files)
            visited += 1
            subfolders, filenames = _list_folder(folder)
            kept = [s for s in subfolders if s not in SKIPPED_FOLDERS]
            if skip_hidden:
                kept = [s for s in kept if not s.startswith(".")]
            groups.append([folder / s for s in sorted(kept)])
            files.extend(folder / f for f in sorted(filenames) if wanted(f))
            if len(files) > MAX_FILES:
                notes.append(
                    f"More than {MAX_FILES} {what}: only the first {MAX_FILES} were looked at."
                )
                return _in_path_order(files[:MAX_FILES])
        depth += 1
        # The next level takes one subfolder of each folder in turn: a folder of thousands
        # does not spend the budget before its neighbours' subfolders are seen.
        level = _round_robin(groups) if depth <= MAX_DEPTH else []
    return _in_path_order(files)


def _round_robin(groups: list[list[Path]]) -> list[Path]:
    return [path for row in zip_longest(*groups) for path in row if path is not None]


def _in_path_order(files: list[Path]) -> list[Path]:
    """As a depth-first walk lists them: a folder's files before its subfolders'."""
    return sorted(files, key=lambda path: (path.parent.parts, path.name))


def _list_folder(folder: Path) -> tuple[list[str], list[str]]:
    """Its subfolders (never through a symbolic link) and its other entries' names; an
    unreadable folder has none."""
    subfolders: list[str] = []
    filenames: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    is_folder = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                (subfolders if is_folder else filenames).append(entry.name)
    except OSError:
        pass
    return subfolders, filenames
