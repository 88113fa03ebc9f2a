"""`cdgen metrics`: DORA's four keys from a repository's GitHub deployment records.

``measure`` reads the records through the REST API and computes the figures;
``render_report`` turns them into text. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cdgen.metrics.client import GitHubClient, find_token
from cdgen.metrics.dora import Metrics, compute_metrics
from cdgen.metrics.query import Options, Query, resolve_query
from cdgen.metrics.records import GitHubCommits, read_history
from cdgen.metrics.report import render_report

__all__ = ["Options", "measure", "metrics_report"]


def measure(query: Query, client: GitHubClient) -> Metrics:
    history = read_history(client, query.repo, query.environment, query.window)
    commits = GitHubCommits(client, query.repo)
    return compute_metrics(query.repo, query.environment, query.window, history, commits)


def metrics_report(options: Options, cwd: Path, environ: Mapping[str, str] | None = None) -> str:
    """The report the command prints; usage problems first, then the token, then GitHub."""
    query = resolve_query(options, cwd)
    client = GitHubClient(query.api_url, find_token(query.api_url, environ))
    return render_report(measure(query, client), query.form)
