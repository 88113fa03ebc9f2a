"""A bounded walk of a repository's folders for `cdgen init`.

Detection looks everywhere a project keeps its own files, never in dependencies, build
output or version control, and never for long: the walk stops at MAX_DEPTH folders deep,
MAX_FOLDERS folders and MAX_FILES matching files, and says so in a note. Symbolic links
are not followed, so a link cannot lead the walk out of the repository or round in a loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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
    """
    files: list[Path] = []
    for visited, (folder, subfolders, filenames) in enumerate(os.walk(root)):
        if visited == MAX_FOLDERS:
            notes.append(f"{what} were looked for in the first {MAX_FOLDERS} folders only.")
            break
        depth = len(Path(folder).relative_to(root).parts)
        kept = [s for s in subfolders if s not in SKIPPED_FOLDERS]
        if skip_hidden:
            kept = [s for s in kept if not s.startswith(".")]
        subfolders[:] = sorted(kept) if depth < MAX_DEPTH else []
        files.extend(Path(folder) / f for f in sorted(filenames) if wanted(f))
        if len(files) > MAX_FILES:
            notes.append(
                f"More than {MAX_FILES} {what}: only the first {MAX_FILES} were looked at."
            )
            return files[:MAX_FILES]
    return files
