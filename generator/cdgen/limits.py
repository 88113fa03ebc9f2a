"""GitHub's documented limits that a generated pipeline must stay within.

From "Actions limits" (https://docs.github.com/en/actions/reference/limits) and "Usage
limits" for GitHub-hosted runners: a workflow file over 500 KB starts no runs; a job on a
GitHub-hosted runner is stopped after 6 hours; a matrix makes at most 256 jobs. cdgen refuses
a descriptor whose pipeline would cross one, naming the limit, rather than write a workflow
that GitHub would cancel or never start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cdgen.errors import CdgenError, Violation

if TYPE_CHECKING:
    from cdgen.descriptor import Document
    from cdgen.model import Environment, Pipeline
    from cdgen.site_model import SiteEnvironment, SitePipeline

LIMITS_URL = "https://docs.github.com/en/actions/reference/limits"
WORKFLOW_FILE_BYTES = 500 * 1024
JOB_MINUTES = 6 * 60
MATRIX_JOBS = 256


def find_job_time_violations(
    doc: Document, pipeline: Pipeline | SitePipeline
) -> Iterator[Violation]:
    """Each environment whose deploy job could run longer than a hosted runner allows."""
    environments: Sequence[Environment | SiteEnvironment] = pipeline.environments
    for index, env in enumerate(environments):
        if env.job_minutes > JOB_MINUTES:
            line, col = doc.position(["environments", index, "name"])
            has_canary = getattr(env, "canary", None)  # a site's environment has none
            canary = "canary steps and pauses, " if has_canary else ""
            yield Violation(
                doc.path,
                line,
                col,
                f"environments[{index}]: the deploy job of '{env.name}' could take "
                f"{env.job_minutes} minutes at worst ({canary}rollout timeouts, smoke retries, "
                f"e2e timeout and a rollback), over GitHub's 6-hour limit for a job on a "
                f"GitHub-hosted runner ({JOB_MINUTES} minutes, {LIMITS_URL}); shorten them",
            )


def check_file_sizes(files: dict[str, str]) -> None:
    """Refuse to write a workflow GitHub would not start."""
    for rel, text in sorted(files.items()):
        size = len(text.encode("utf-8"))
        if size > WORKFLOW_FILE_BYTES:
            raise CdgenError(
                f"{rel} would be {size:,} bytes, over GitHub's limit of 500 KB for a workflow "
                f"file ({LIMITS_URL}); nothing was written. Split the descriptor (fewer "
                "environments per pipeline)"
            )
