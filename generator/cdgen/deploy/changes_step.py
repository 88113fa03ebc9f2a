"""The action's ``mode: changes`` step: read its inputs, find the changed services, write the
outputs and the job summary. It never fails a run over the records: what it cannot tell
counts as changed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from cdgen.deploy.changes import InvalidServices, find_changes, parse_entries
from cdgen.deploy.changes import render_outputs as changes_outputs
from cdgen.deploy.changes import render_summary as changes_summary
from cdgen.deploy.changes_records import RecordReader
from cdgen.deploy.console import Console
from cdgen.deploy.records_target import REPOSITORY, api_url_problem, token_problem
from cdgen.deploy.step_end import EXIT_FAILED, EXIT_OK, EXIT_USAGE, write_and_close


def run_changes(
    raw: Mapping[str, str],
    environ: Mapping[str, str],
    console: Console,
    summary: TextIO | None,
    outputs: TextIO | None,
) -> int:
    problems: list[str] = []
    entries = []
    try:
        entries = parse_entries(raw.get("services", ""))
    except InvalidServices as error:
        problems.append(str(error))
    environment = raw.get("environment", "")
    if not environment or len(environment) > 100 or not environment.isprintable():
        problems.append("environment: the environment whose deployment records count")
    reader = _reader(raw, environ, problems)
    if problems:
        for problem in problems:
            console.error(problem, "Invalid input")
        _write((summary, ""), (outputs, ""))
        return EXIT_USAGE
    verdicts = find_changes(
        entries,
        environment,
        environ,
        reader,
        lambda text: console.warning(text, "Deployment records"),
        cwd=environ.get("GITHUB_WORKSPACE") or os.getcwd(),
    )
    for verdict in verdicts:
        console.info(
            f"{verdict.service}: {'changed' if verdict.changed else 'unchanged'}: {verdict.why}"
        )
    if reader is not None:
        console.info(f"{reader.requests} request(s) to GitHub's API")
    written = _write(
        (summary, changes_summary(verdicts)), (outputs, changes_outputs(entries, verdicts))
    )
    for problem in written:
        console.error(problem, "Outputs not written")
    return EXIT_FAILED if written else EXIT_OK


def _write(*files: tuple[TextIO | None, str]) -> list[str]:
    """Write each text and close each file; what could not be written."""
    problems = [write_and_close(handle, text) for handle, text in files]
    return [problem for problem in problems if problem]


def _reader(
    raw: Mapping[str, str], environ: Mapping[str, str], problems: list[str]
) -> RecordReader | None:
    token = raw.get("github-token", "")
    if not token:
        return None
    problem = token_problem("github-token", token, 1024)
    if problem:
        problems.append(problem)
    api_url = environ.get("GITHUB_API_URL", "https://api.github.com")
    repository = environ.get("GITHUB_REPOSITORY", "")
    problem = api_url_problem(api_url)
    if problem:
        problems.append(problem)
    if not REPOSITORY.fullmatch(repository):
        problems.append("GITHUB_REPOSITORY: not OWNER/NAME")
    return RecordReader(api_url, repository, token)
