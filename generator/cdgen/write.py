"""Writing a plan all or nothing: every file lands whole, or every file is as it was.

Each new text is first written to a temporary file beside its target. Only when all are
written are they renamed into place; each replaced or removed file is first renamed aside,
so that a failing rename (an immutable file, a full directory) puts back the files already
changed. SIGINT, SIGTERM and SIGHUP wait while the renames run; a SIGKILL cannot, so the
next run removes the temporary files an interrupted one left (workspace.Tree.leftovers).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from cdgen.errors import CdgenError
from cdgen.workspace import TEMP_SUFFIX, display_path

# A renamed file and where its previous version waits (None: there was none).
_Done = tuple[Path, Path | None]


def commit_changes(root: Path, writes: Mapping[str, str], deletes: Sequence[str]) -> None:
    """Write `writes` (POSIX path -> text) and remove `deletes` under root, all or nothing."""
    made: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, text in writes.items():
            target = root / rel
            _make_folders(target.parent, made)
            staged.append((target, _stage(target, text)))
        with _signals_held():
            _swap(staged, [root / rel for rel in deletes])
    except BaseException as error:
        for _, temp in staged:
            temp.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(error, OSError):
            where = Path(error.filename) if error.filename else root
            raise CdgenError(
                f"cannot write {display_path(where)}: {error.strerror}; "
                "every file was left as it was"
            ) from None
        raise


def remove_leftovers(root: Path, leftovers: Sequence[str]) -> list[str]:
    """Remove the temporary files an interrupted run left; returns those removed."""
    removed = []
    for rel in leftovers:
        with contextlib.suppress(FileNotFoundError):
            (root / rel).unlink()
            removed.append(rel)
    return removed


def _swap(staged: list[tuple[Path, Path]], deletes: list[Path]) -> None:
    steps = [*staged, *((target, None) for target in deletes)]
    done: list[_Done] = []
    for target, temp in steps:
        try:
            done.append((target, _set_aside(target)))
            if temp is not None:
                os.replace(temp, target)
        except BaseException as error:
            _roll_back(done)
            if isinstance(error, OSError):
                error.filename = str(target)  # not the temporary name beside it
            raise
    for _, aside in done:
        if aside is not None:
            aside.unlink(missing_ok=True)


def _roll_back(done: list[_Done]) -> None:
    lost = []
    for target, aside in reversed(done):
        try:
            if aside is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(aside, target)
        except OSError as error:
            kept = f", its previous text is in {display_path(aside)}" if aside else ""
            lost.append(f"{display_path(target)} ({error.strerror}{kept})")
    if lost:
        raise CdgenError("a write failed and these files could not be put back: " + "; ".join(lost))


def _set_aside(target: Path) -> Path | None:
    """Rename the file at `target` to a temporary name beside it; None when there is none."""
    if not os.path.lexists(target):
        return None
    aside = _temporary(target)
    try:
        os.replace(target, aside)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
    return aside


def _stage(target: Path, text: str) -> Path:
    try:
        temp = _temporary(target)
    except OSError as error:
        error.filename = str(target)
        raise
    try:
        temp.write_bytes(text.encode("utf-8"))  # LF, whatever the platform
        temp.chmod(0o644)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            error.filename = str(target)
        raise
    return temp


def _temporary(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    return Path(name)


def _make_folders(folder: Path, made: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the renames are done (where POSIX allows)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = mask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)
