"""What is on disk where cdgen writes, and the plan that brings it to what cdgen would write.

cdgen only ever writes `.github/workflows/*.yml`, `.github/dependabot.yml`,
`.github/actionlint.yaml` and, for `init`, `cdgen.yml`. Everything else in those folders
belongs to someone else: files that cannot be read, folders, FIFOs and symbolic links are
never read as candidates, so they neither block a run nor get removed. Only regular files
whose three header lines are exactly cdgen's are its own.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cdgen.errors import CdgenError, Finding
from cdgen.header import has_marker, split_generated

# Folder -> which of its files cdgen may have written (orphans are found by name and header).
_SCANNED = {
    ".github": re.compile(r"dependabot\.yml|actionlint\.yaml"),
    ".github/workflows": re.compile(r".+\.ya?ml"),
}
# A temporary file of cdgen's writer: `.<name>.<8 random characters>.cdgen-tmp`.
TEMP_SUFFIX = ".cdgen-tmp"
_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
MAX_FILE_BYTES = 16 * 1024 * 1024  # far above any generated file; bounds reading strangers


class UnreadableFileError(Exception):
    """A file that is not read: not a regular file, too large, or refused by the system."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, without following a symlink.

    Opening never blocks (a FIFO is refused, not waited on), and the type is checked on the
    open file, so nothing can be swapped in between the check and the read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise UnreadableFileError(error.strerror or str(error)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError("not a regular file")
        if info.st_size > limit:
            raise UnreadableFileError(f"larger than {limit} bytes")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise UnreadableFileError(error.strerror or str(error)) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnreadableFileError(f"larger than {limit} bytes")
    return data


def decode(data: bytes) -> str:
    """Text as cdgen compares it: UTF-8, with a Windows checkout's CRLF read as LF."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


@dataclass(frozen=True)
class Tree:
    """What cdgen finds under an output directory before it changes anything."""

    root: Path
    generated: dict[str, str]  # files whose first line claims cdgen's header, by POSIX path
    leftovers: tuple[str, ...]  # temporary files of an interrupted run

    def intact(self) -> dict[str, str]:
        """The generated files whose whole header is valid and whose body is unchanged."""
        return {
            rel: text
            for rel, text in self.generated.items()
            if (parsed := split_generated(text)) is not None and parsed.intact(rel)
        }


def scan(root: Path) -> Tree:
    """Read every file cdgen may have written under `root`; refuses folders linked outside."""
    refuse_links_outside(root)
    generated: dict[str, str] = {}
    leftovers: list[str] = []
    for folder in ("", *_SCANNED):
        for name in _list_regular_files(root / folder):
            rel = f"{folder}/{name}" if folder else name
            if _TEMP.fullmatch(name):
                leftovers.append(rel)
            elif folder and _SCANNED[folder].fullmatch(name):
                text = _read_if_generated(root / rel)
                if text is not None:
                    generated[rel] = text
    return Tree(root, generated, tuple(sorted(leftovers)))


def refuse_links_outside(root: Path) -> None:
    """cdgen writes only inside the output directory, also through symbolic links."""
    base = root.resolve()
    for rel in _SCANNED:
        path = root / rel
        if os.path.lexists(path) and not path.resolve().is_relative_to(base):
            raise CdgenError(
                f"{display_path(path)}: leads outside {display_path(root)} (to "
                f"{path.resolve()}) through a symbolic link; cdgen only writes inside the "
                "output directory"
            )


def _list_regular_files(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        raise CdgenError(f"{display_path(folder)}: cannot be listed: {error.strerror}") from None


def _read_if_generated(path: Path) -> str | None:
    """The text of a file claiming cdgen's header; None for anything else or unreadable."""
    try:
        text = decode(read_regular(path, MAX_FILE_BYTES))
    except UnreadableFileError:
        return None  # not cdgen's to judge: it never writes what it cannot read back
    return text if has_marker(text) else None


@dataclass
class Plan:
    root: Path
    writes: dict[str, str] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Finding]:
        """Files generate must not overwrite or delete without --force."""
        return [f for f in self.findings if f.conflict]

    def add(self, rel: str, text: str) -> None:
        """Also write `text` at `rel` (init's cdgen.yml), after the same checks."""
        refuse_blocked(self.root, [rel])
        finding = compare(rel, read_current(self.root, rel), text)
        if finding is not None:
            self.findings.append(finding)
            self.writes[rel] = text

    def changes(self) -> list[tuple[str, str]]:
        """(path, what happens) for every file the plan touches, in path order."""
        kinds = {f.path: f.kind for f in self.findings}
        verbs = {"missing": "created", "orphaned": "removed", "edited-orphan": "removed"}
        return [(rel, verbs.get(kinds[rel], "updated")) for rel in sorted(kinds)]


def plan_changes(
    tree: Tree, desired: dict[str, str], unmanaged: frozenset[str] = frozenset()
) -> Plan:
    """What writing `desired` under the tree's root changes; `unmanaged` paths are left alone.

    Raises CdgenError, before anything is written, when a path cannot be written at all.
    """
    refuse_blocked(tree.root, sorted(desired))
    plan = Plan(tree.root)
    for rel, text in sorted(desired.items()):
        finding = compare(rel, read_current(tree.root, rel), text)
        if finding is not None:
            plan.findings.append(finding)
            plan.writes[rel] = text
    intact = tree.intact()
    for rel, text in sorted(tree.generated.items()):
        if rel not in desired and rel not in unmanaged:
            kind = "orphaned" if rel in intact else "edited-orphan"
            plan.findings.append(Finding(rel, kind, unified_diff(rel, text, "")))
            plan.deletes.append(rel)
    return plan


def refuse_blocked(root: Path, rels: list[str]) -> None:
    """Every path must take a regular file: no folder, FIFO or file where a folder goes."""
    if os.path.exists(root) and not os.path.isdir(root):
        raise CdgenError(f"{display_path(root)} is not a folder; nothing was written")
    problems = [f"{display_path(root / rel)}: {p}" for rel in rels if (p := _blocked(root, rel))]
    if problems:
        raise CdgenError("; ".join(problems) + "; nothing was written")


def _blocked(root: Path, rel: str) -> str | None:
    path = root
    parts = Path(rel).parts
    for index, part in enumerate(parts):
        path = path / part
        try:
            mode = os.stat(path).st_mode if index < len(parts) - 1 else os.lstat(path).st_mode
        except FileNotFoundError:
            return None  # everything below is created
        except OSError as error:
            return f"cannot be inspected ({error.strerror})"
        if index < len(parts) - 1 and not stat.S_ISDIR(mode):
            return f"{Path(*parts[: index + 1]).as_posix()} is not a folder"
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    return f"{kind} is in the way of the file cdgen writes there"


def read_current(root: Path, rel: str) -> str | None:
    """The text at a path cdgen writes (None: nothing there); a symlink reads as foreign."""
    path = root / rel
    if path.is_symlink():
        return f"(a symbolic link to {os.readlink(path)})\n"
    try:
        return decode(read_regular(path, MAX_FILE_BYTES))
    except UnreadableFileError as error:
        if not os.path.lexists(path):
            return None
        raise CdgenError(f"{display_path(path)}: cannot be read: {error}") from None


def compare(rel: str, current: str | None, wanted: str) -> Finding | None:
    if current is None:
        return Finding(rel, "missing", unified_diff(rel, "", wanted))
    if current == wanted:
        return None
    diff = unified_diff(rel, current, wanted)
    parsed = split_generated(current)
    if parsed is None:
        return Finding(rel, "header-edited" if has_marker(current) else "foreign", diff)
    if not parsed.intact(rel):
        return Finding(rel, "hand-edited", diff)
    return Finding(rel, "stale", diff)


def unified_diff(rel: str, old: str, new: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        # abspath, not resolve: a symbolic link is shown by its own name, not its target's.
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return str(path)
