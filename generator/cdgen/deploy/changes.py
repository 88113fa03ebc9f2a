"""``mode: changes``: which services of a monorepo changed, run from the action's checkout
in a checkout of the repository (its history: `fetch-depth: 0`).

- a push: each service changed when a file its `paths` cover differs between the commit of
  its last successful deploy to `environment` (from the deployment records) and this
  commit; a service never deployed there, whose commit this clone does not have, or whose
  records cannot be read, counts as changed. A push that created the branch (an all-zero
  `before`) changes every service;
- a pull request: the files the pull request changes (its base to its merge commit);
- anything else (a manual run): every service.

The outputs: `services`, the JSON list of the names that changed; `matrix`, their entries
of the `services` input (without `paths`), for a build matrix; `any`, `true` or `false`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdgen.deploy.changes_records import RecordReader, RecordsUnavailable
from cdgen.deploy.changes_settings import rows_at, settings_change, workflow_path
from cdgen.deploy.paths import PathMatcher
from cdgen.deploy.recording import SERVICE
from cdgen.deploy.records_target import one_line

SHA = re.compile(r"[0-9a-f]{40}")
ZERO = "0" * 40
GIT_TIMEOUT = 300


class InvalidServices(ValueError):
    """The `services` input is not what the generated workflow writes."""


@dataclass(frozen=True)
class Entry:
    name: str
    paths: tuple[str, ...]
    row: dict[str, Any]  # the whole object, passed on to the build matrix


@dataclass(frozen=True)
class Verdict:
    service: str
    changed: bool
    why: str


def parse_entries(text: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidServices(f"services: not JSON ({error})") from None
    if not isinstance(data, list) or not data:
        raise InvalidServices("services: must be a non-empty JSON list of objects")
    entries: list[Entry] = []
    for index, row in enumerate(data):
        name = row.get("service") if isinstance(row, dict) else None
        paths = row.get("paths") if isinstance(row, dict) else None
        if not isinstance(name, str) or not SERVICE.fullmatch(name):
            raise InvalidServices(f"services[{index}]: `service` is not a service name")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise InvalidServices(f"services[{index}]: `paths` is not a list of paths")
        if any(entry.name == name for entry in entries):
            raise InvalidServices(f"services[{index}]: '{name}' is listed twice")
        entries.append(Entry(name, tuple(paths), row))
    return entries


def read_event(environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        with open(environ.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def every(entries: list[Entry], why: str) -> list[Verdict]:
    return [Verdict(entry.name, True, why) for entry in entries]


def changed_files(base: str, head: str = "HEAD", cwd: str | None = None) -> list[str] | None:
    """The files that differ between two commits' trees; None when git cannot tell (the
    commit is not in this clone)."""
    known = _git(["cat-file", "-e", f"{base}^{{commit}}"], cwd)
    if known is None:
        return None
    listed = _git(["diff", "--name-only", "-z", "--no-renames", base, head, "--"], cwd)
    if listed is None:
        return None
    return [name for name in listed.split("\0") if name]


def _git(args: list[str], cwd: str | None) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=false", *args],
            cwd=cwd,
            # A partial clone fetches an old file on demand: never by asking for a password.
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def judge(
    entries: list[Entry],
    since: dict[str, str],
    cwd: str | None = None,
    warn: Any = None,
    workflow: str | None = None,
) -> list[Verdict]:
    """Each service against the commit it was last deployed from (``since``; absent: never);
    ``warn`` hears of each such commit the clone lacks (a force-push rewrote the history).
    With ``workflow`` (the running workflow's file), a service whose build settings changed
    there since counts as changed too (changes_settings.py)."""
    diffs: dict[str, list[str] | None] = {}
    before: dict[str, dict[str, dict[str, Any]]] = {}
    verdicts = []
    for entry in entries:
        base = since.get(entry.name)
        if base is None:
            verdicts.append(Verdict(entry.name, True, "no successful deploy recorded"))
            continue
        if base not in diffs:
            diffs[base] = changed_files(base, cwd=cwd)
        files = diffs[base]
        if files is None:
            why = f"its last deploy's commit {base[:12]} is not in this clone's history"
            verdicts.append(Verdict(entry.name, True, why))
            if warn is not None:
                warn(
                    f"{entry.name}: its last successful deploy was of {base[:12]}, which is "
                    "not in this clone's history (a force-push?): it counts as changed"
                )
            continue
        first = PathMatcher(entry.paths).first_match(files)
        settings = None
        if first is None:
            settings = _settings_change(entry, base, files, workflow, before, cwd)
        if first is not None:
            verdicts.append(Verdict(entry.name, True, f"{first} changed since {base[:12]}"))
        elif settings is not None:
            verdicts.append(Verdict(entry.name, True, f"{settings} since {base[:12]}"))
        else:
            verdicts.append(Verdict(entry.name, False, f"unchanged since {base[:12]}"))
    return verdicts


def _settings_change(  # noqa: PLR0917 - one service's part of judge's work
    entry: Entry,
    base: str,
    files: list[str],
    workflow: str | None,
    before: dict[str, dict[str, dict[str, Any]]],
    cwd: str | None,
) -> str | None:
    """Why the service's build settings in the workflow count as changed since ``base``;
    ``before`` keeps each base's rows, read once."""
    if workflow is None or workflow not in files:
        return None
    if base not in before:
        before[base] = rows_at(base, workflow, _git, cwd)
    return settings_change(entry.row, before[base])


def pull_request_verdicts(
    entries: list[Entry], event: dict[str, Any], cwd: str | None, workflow: str | None = None
) -> list[Verdict]:
    base = (event.get("pull_request") or {}).get("base", {}).get("sha")
    if not isinstance(base, str) or not SHA.fullmatch(base):
        return every(entries, "the pull request's base is unknown")
    files = changed_files(base, cwd=cwd)
    if files is None:
        return every(entries, f"the base {base[:12]} is not in this clone's history")
    verdicts = []
    before: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in entries:
        first = PathMatcher(entry.paths).first_match(files)
        settings = None if first else _settings_change(entry, base, files, workflow, before, cwd)
        why = f"{first} changed" if first else settings or "unchanged by this pull request"
        verdicts.append(Verdict(entry.name, bool(first or settings), why))
    return verdicts


def find_changes(  # noqa: PLR0917 - the step's inputs, in the order the step has them
    entries: list[Entry],
    environment: str,
    environ: Mapping[str, str],
    reader: RecordReader | None,
    warn: Any,
    cwd: str | None = None,
) -> list[Verdict]:
    event_name = environ.get("GITHUB_EVENT_NAME", "")
    event = read_event(environ)
    if event_name == "pull_request":
        return pull_request_verdicts(entries, event, cwd, workflow_path(environ))
    if event_name != "push":
        return every(entries, f"a {event_name or 'manual'} run builds every service")
    if event.get("before") == ZERO:
        return every(entries, "the push created the branch")
    if reader is None:
        return every(entries, "no github-token to read the deployment records")
    try:
        since = reader.last_deployed(environment, [entry.name for entry in entries])
    except RecordsUnavailable as problem:
        warn(
            f"cannot read the deployment records of {environment} ({problem}): every service "
            "counts as changed"
        )
        return every(entries, "the deployment records could not be read")
    return judge(entries, since, cwd, warn, workflow_path(environ))


def render_outputs(entries: list[Entry], verdicts: list[Verdict]) -> str:
    changed = {v.service for v in verdicts if v.changed}
    names = [entry.name for entry in entries if entry.name in changed]
    matrix = [
        {k: v for k, v in entry.row.items() if k != "paths"}
        for entry in entries
        if entry.name in changed
    ]
    return (
        f"services={json.dumps(names, separators=(',', ':'))}\n"
        f"matrix={json.dumps(matrix, separators=(',', ':'), ensure_ascii=False)}\n"
        f"any={'true' if names else 'false'}\n"
    )


def render_summary(verdicts: list[Verdict]) -> str:
    changed = sum(v.changed for v in verdicts)
    lines = [
        f"### Changed services: {changed} of {len(verdicts)}",
        "",
        "| Service | Changed | Why |",
        "|---|---|---|",
    ]
    for verdict in verdicts:
        # A changed file's path comes from git: one line, so it cannot end the table's row.
        why = one_line(verdict.why).replace("|", "\\|").replace("`", "'")
        lines.append(f"| {verdict.service} | {'yes' if verdict.changed else 'no'} | {why} |")
    return "\n".join(lines) + "\n"
