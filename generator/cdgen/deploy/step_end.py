"""How a step ends: its exit statuses, and the report files it writes and closes last."""

from __future__ import annotations

from typing import TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3


def write_and_close(handle: TextIO | None, text: str) -> str:
    """Write and close; return what went wrong ('' when nothing did)."""
    if handle is None:
        return ""
    try:
        with handle:
            handle.write(text)
    except OSError as error:
        return f"cannot write {handle.name}: {error.strerror or error}"
    return ""
