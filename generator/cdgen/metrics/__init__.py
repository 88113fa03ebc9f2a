"""`cdgen metrics`: DORA's four keys from a repository's GitHub deployment records.

``measure`` reads the records through the REST API and computes the figures;
``render_report`` turns them into text. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cdgen.errors import UsageError
from cdgen.metrics.client import GitHubClient, find_token
from cdgen.metrics.dora import Metrics, compute_metrics
from cdgen.metrics.query import Options, Query, resolve_query, unknown_service
from cdgen.metrics.records import GitHubCommits, read_histories
from cdgen.metrics.report import render_reports

__all__ = ["Options", "measure", "measure_each", "metrics_report"]


def measure(query: Query, client: GitHubClient) -> Metrics:
    """The figures of the query's first service, or of the environment when it names none."""
    return measure_each(query, client)[0]


def measure_each(query: Query, client: GitHubClient) -> list[Metrics]:
    """One set of figures per service asked for, in that order; when none is asked for, one
    per service the records name (sorted), or else one for the whole environment."""
    services = frozenset(query.services) if query.services else None
    read = read_histories(client, query.repo, query.environment, query.window, services)
    if not query.checked:
        for service in query.services:
            if service not in read.services_seen:
                known = tuple(sorted(read.services_seen))
                raise UsageError(unknown_service(service, known, "the deployment records"))
    keys: list[str | None] = list(query.services or sorted(read.services_seen)) or [None]
    commits = GitHubCommits(client, query.repo)  # its compares are shared between services
    return [
        compute_metrics(
            query.repo,
            query.environment,
            query.window,
            read.histories[key],
            commits,
            service=key,
        )
        for key in keys
    ]


def metrics_report(options: Options, cwd: Path, environ: Mapping[str, str] | None = None) -> str:
    """The report the command prints; usage problems first, then the token, then GitHub."""
    query = resolve_query(options, cwd)
    client = GitHubClient(query.api_url, find_token(query.api_url, environ))
    each = measure_each(query, client)
    grouped = options.service is None and any(m.service for m in each)
    return render_reports(each, query.form, grouped)
