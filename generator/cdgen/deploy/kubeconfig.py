"""A kubeconfig given as content lives only in a 0600 temporary file, removed afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def kubeconfig_file(content: str, directory: str | None = None) -> Iterator[str]:
    """Yield the path of a private file holding ``content`` ('' when there is no content)."""
    if not content:
        yield ""
        return
    # mkstemp creates the file with mode 0600, readable by this user only.
    descriptor, path = tempfile.mkstemp(prefix="cdgen-kubeconfig-", suffix=".yaml", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content if content.endswith("\n") else content + "\n")
        yield path
    finally:
        os.unlink(path)
