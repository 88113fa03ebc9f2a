"""Services whose build settings changed in cdgen.yml, told from the generated workflow.

A commit that only edits cdgen.yml (a service's `test`, Dockerfile, platforms, test stage or
image repository) changes no file under the service's `paths`, yet its image must be built
again. The changes step's `services` input holds each service's row, what its build uses,
written into the workflow one row a line. When the workflow file differs from the commit a
service was last deployed from, the service's row there is compared with today's (`paths`
aside: they choose what is compared, not what is built). When that older row cannot be read
(a partial clone that cannot fetch it, a renamed workflow), the service counts as changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

WORKFLOW = re.compile(r"\.github/workflows/[A-Za-z0-9._-]+\.ya?ml")
ROW_START = '{"service": '

Git = Callable[[list[str], "str | None"], "str | None"]


def workflow_path(environ: Mapping[str, str]) -> str | None:
    """The running workflow's file (`GITHUB_WORKFLOW_REF`: OWNER/REPO/PATH@REF), or None."""
    ref = environ.get("GITHUB_WORKFLOW_REF", "")
    prefix = environ.get("GITHUB_REPOSITORY", "") + "/"
    if prefix == "/" or not ref.startswith(prefix):
        return None
    path = ref[len(prefix) :].partition("@")[0]
    return path if WORKFLOW.fullmatch(path) else None


def rows_at(commit: str, workflow: str, git: Git, cwd: str | None) -> dict[str, dict[str, Any]]:
    """Each service's row in the workflow as of ``commit`` (none when it cannot be read)."""
    text = git(["show", f"{commit}:{workflow}"], cwd)
    rows: dict[str, dict[str, Any]] = {}
    for line in (text or "").splitlines():
        stripped = line.strip().rstrip(",")
        if not stripped.startswith(ROW_START):
            continue
        try:
            row = json.loads(stripped)
        except ValueError:
            continue
        # The deploy jobs' tables hold rows too, without paths: only the changes table's.
        if isinstance(row, dict) and isinstance(row.get("service"), str) and "paths" in row:
            rows.setdefault(row["service"], row)
    return rows


def settings_change(row: dict[str, Any], before: dict[str, dict[str, Any]]) -> str | None:
    """Why the service's build settings count as changed, or None when they did not."""
    old = before.get(str(row.get("service")))
    if old is None:
        return "the workflow changed and its settings there before cannot be read"
    if _build_settings(old) != _build_settings(row):
        return "its build settings in cdgen.yml changed"
    return None


def _build_settings(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "paths"}
