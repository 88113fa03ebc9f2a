"""The limits a generated pipeline must stay within: GitHub's documented ones, and the one
environment string a runner can hand to a step.

From "Actions limits" (https://docs.github.com/en/actions/reference/limits) and "Usage
limits" for GitHub-hosted runners: a workflow file over 500 KB starts no runs; a job on a
GitHub-hosted runner is stopped after 6 hours; a matrix makes at most 256 jobs, a threshold
GitHub states per workflow run. cdgen refuses a descriptor whose pipeline would cross one,
naming the limit and the descriptor's position, rather than write a workflow that GitHub would
cancel or never start.

A monorepo's pipeline (`services:`) meets them first: a push that changes every service (a
first run, a dispatch) builds each in a job of one matrix, and each environment's one job
deploys every service (32 at a time), so its time grows with their number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cdgen.errors import DescriptorError, Violation

if TYPE_CHECKING:
    from cdgen.descriptor import Document, PathItem
    from cdgen.model import Environment, Pipeline
    from cdgen.site_model import SiteEnvironment, SitePipeline

LIMITS_URL = "https://docs.github.com/en/actions/reference/limits"
WORKFLOW_FILE_BYTES = 500 * 1024
JOB_MINUTES = 6 * 60
MATRIX_JOBS = 256
# GitHub states the matrix's 256 jobs "per workflow run": cdgen counts every job of a run,
# the matrix's included, against it, so that no reading of the limit cancels a run.
RUN_JOBS = 256
# Not GitHub's but Linux's (MAX_ARG_STRLEN): a runner passes each input of the action's steps
# to its process as an environment variable, and one `NAME=value` string may hold 128 KiB.
ENV_STRING_BYTES = 128 * 1024


def find_job_time_violations(
    doc: Document, pipeline: Pipeline | SitePipeline
) -> Iterator[Violation]:
    """Each environment whose deploy job could run longer than a hosted runner allows."""
    environments: Sequence[Environment | SiteEnvironment] = pipeline.environments
    services = len(getattr(pipeline, "services", ()))  # a site has none
    for index, env in enumerate(environments):
        minutes = _job_minutes(env, services)
        if minutes > JOB_MINUTES:
            line, col = doc.position(["environments", index, "name"])
            has_canary = getattr(env, "canary", None)  # a site's environment has none
            canary = "canary steps and pauses, " if has_canary else ""
            every = f"{services} services' " if services else ""
            fewer = "; or split the services over several descriptors" if services else ""
            yield Violation(
                doc.path,
                line,
                col,
                f"environments[{index}]: the deploy job of '{env.name}' could take "
                f"{minutes} minutes at worst ({every}{canary}rollout timeouts, smoke retries, "
                f"e2e timeout and a rollback), over GitHub's 6-hour limit for a job on a "
                f"GitHub-hosted runner ({JOB_MINUTES} minutes, {LIMITS_URL}); shorten them"
                f"{fewer}",
            )


def _job_minutes(env: Environment | SiteEnvironment, services: int) -> int:
    if not services:
        return env.job_minutes
    from cdgen.model import Environment
    from cdgen.services_model import stage_minutes

    assert isinstance(env, Environment)  # services deploy images, never a site
    return stage_minutes(env, services)


def find_services_violations(doc: Document, pipeline: Pipeline) -> Iterator[Violation]:
    """A monorepo's pipeline past a limit: too many jobs, or a step's input too long."""
    yield from _job_counts(doc, pipeline)
    yield from _input_sizes(doc, pipeline)


def _job_counts(doc: Document, pipeline: Pipeline) -> Iterator[Violation]:
    """A build matrix, or a run, holding more jobs than GitHub allows: reported at the first
    service past the limit."""
    count = len(pipeline.services)
    if count > MATRIX_JOBS:
        yield _at_service(
            doc,
            MATRIX_JOBS,
            f"{count} services: over GitHub's limit of {MATRIX_JOBS} jobs in a matrix "
            f"({LIMITS_URL}); a push that changes every service (a first run, a dispatch) "
            "builds each in one job of the build matrix. Split the services over several "
            "descriptors",
        )
        return
    others = 1 + len(pipeline.environments) + (1 if pipeline.manual_environments else 0)
    if count + others > RUN_JOBS:
        yield _at_service(
            doc,
            RUN_JOBS - others,
            f"{count} services: a run of cd.yml could hold {count + others} jobs (the "
            f"changes job, a build per service, {others - 1} environment and promotion "
            f"jobs), over GitHub's limit of {RUN_JOBS} jobs per workflow run ({LIMITS_URL}). "
            "Split the services over several descriptors",
        )


def _input_sizes(doc: Document, pipeline: Pipeline) -> Iterator[Violation]:
    """The tables of services the action's steps take as one input each (the changes step's,
    and each environment's Deployments and smoke URLs)."""
    from cdgen.services_model import changes_table, targets_table

    if not pipeline.services:
        return
    tables = [
        ("the changes step's paths and builds", changes_table(pipeline.services, pipeline.image))
    ]
    tables += [
        (
            f"the Deployments and smoke URLs of '{env.name}'",
            targets_table(pipeline.services, env.name, env.url),
        )
        for env in pipeline.environments
    ]
    line, col = doc.position(["services"], key=True)
    for what, table in tables:
        size = len(f"CDGEN_SERVICES={table}".encode()) + 1
        if size > ENV_STRING_BYTES:
            yield Violation(
                doc.path,
                line,
                col,
                f"services: {what} would be {size:,} bytes, over the 128 KiB a runner can pass "
                "to the action's step in one environment variable (Linux's limit for one "
                "string, MAX_ARG_STRLEN); fewer services, shorter paths, commands or URLs",
            )


def _at_service(doc: Document, index: int, message: str) -> Violation:
    where: list[PathItem] = ["services", index, "name"]
    line, col = doc.position(where)
    return Violation(doc.path, line, col, f"services[{index}]: {message}")


def check_file_sizes(doc: Document, files: dict[str, str]) -> None:
    """Refuse to write a workflow GitHub would not start; DescriptorError at the list that
    makes it long (the services, or the environments)."""
    key = "services" if isinstance(doc.data, dict) and "services" in doc.data else "environments"
    too_big = []
    for rel, text in sorted(files.items()):
        size = len(text.encode("utf-8"))
        if size > WORKFLOW_FILE_BYTES:
            line, col = doc.position([key], key=True)
            too_big.append(
                Violation(
                    doc.path,
                    line,
                    col,
                    f"{key}: {rel} would be {size:,} bytes, over GitHub's limit of 500 KB for "
                    f"a workflow file ({LIMITS_URL}); nothing was written. Split the "
                    f"descriptor (fewer {key} per pipeline)",
                )
            )
    if too_big:
        raise DescriptorError(too_big)
