"""GitHub's limits for a monorepo's pipeline (`services:`): the build matrix, the jobs of a
run, a job's 6 hours and a workflow file's 500 KB (and the 128 KiB of one step input) are
each refused at the descriptor's position, naming the limit, with nothing written; the
generated YAML is measured for 1, 10 and 100 services."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from cdgen.cli import main
from cdgen.limits import (
    ENV_STRING_BYTES,
    JOB_MINUTES,
    MATRIX_JOBS,
    RUN_JOBS,
    WORKFLOW_FILE_BYTES,
)

# A quick environment: the shortest rollout, no smoke test, so that a job's time does not
# cross 6 hours before the job counts do.
QUICK = "    kubernetes: {{ namespace: {name}, rollout-timeout: 10s }}\n"


def services_descriptor(
    count: int, environments: int = 1, *, test: str = "make test", quick: bool = True
) -> str:
    lines = ["version: 1", "name: shop", "services:"]
    for index in range(count):
        lines += [
            f"  - name: service-{index:03d}",
            f"    image: {{ context: src/service-{index:03d}, test: {test} }}",
        ]
    text = "\n".join(lines) + "\nenvironments:\n"
    for index in range(environments):
        name = f"env{index}"
        text += f"  - name: {name}\n    url: https://{name}.example.com\n"
        if quick:
            text += QUICK.format(name=name)
        else:
            text += f"    kubernetes: {{ namespace: {name} }}\n    smoke: {{ path: /health }}\n"
            text += "    e2e: { run: npm run test:e2e }\n"
    return text


def generate(repo: Path, descriptor: str) -> int:
    (repo / "cdgen.yml").write_text(descriptor, encoding="utf-8")
    return main(["generate", "--config", str(repo / "cdgen.yml")])


def line_of(descriptor: str, text: str) -> int:
    return descriptor.splitlines().index(text) + 1


def test_more_services_than_a_matrix_holds_are_refused_at_the_first_one_past(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    descriptor = services_descriptor(MATRIX_JOBS + 1)
    assert generate(tmp_path, descriptor) == 1
    err = capsys.readouterr().err
    line = line_of(descriptor, f"  - name: service-{MATRIX_JOBS:03d}")
    assert (
        f"cdgen.yml:{line}:11: services[{MATRIX_JOBS}]: {MATRIX_JOBS + 1} services: over "
        f"GitHub's limit of {MATRIX_JOBS} jobs in a matrix" in err
    )
    assert "jobs per workflow run" not in err  # the matrix is the limit to name
    assert not (tmp_path / ".github").exists()


def test_a_run_holding_more_jobs_than_github_allows_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two environments: the changes job, the builds and two deploy jobs. 253 services make
    256 jobs; one more is refused at the service that crosses the limit."""
    fits = RUN_JOBS - 3
    assert generate(tmp_path, services_descriptor(fits, 2)) == 0
    cd = YAML(typ="safe").load((tmp_path / ".github/workflows/cd.yml").read_text())
    assert len(cd["jobs"]) - 1 + fits == RUN_JOBS  # the build job is a matrix of `fits`
    descriptor = services_descriptor(fits + 1, 2)
    capsys.readouterr()
    repo = tmp_path / "over"
    repo.mkdir()
    assert generate(repo, descriptor) == 1
    err = capsys.readouterr().err
    line = line_of(descriptor, f"  - name: service-{fits:03d}")
    assert (
        f"cdgen.yml:{line}:11: services[{fits}]: {fits + 1} services: a run of cd.yml could "
        f"hold {RUN_JOBS + 1} jobs" in err
    )
    assert f"over GitHub's limit of {RUN_JOBS} jobs per workflow run" in err
    assert not (repo / ".github").exists()


def test_a_deploy_job_of_every_service_over_six_hours_is_refused_at_its_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every service changed: 32 deploys at a time, each wave with its rollback."""
    descriptor = services_descriptor(200, quick=False)
    assert generate(tmp_path, descriptor) == 1
    err = capsys.readouterr().err
    line = line_of(descriptor, "  - name: env0")
    assert f"cdgen.yml:{line}:11: environments[0]: the deploy job of 'env0' could take " in err
    assert "(200 services' rollout timeouts" in err
    assert f"GitHub-hosted runner ({JOB_MINUTES} minutes" in err
    assert not (tmp_path / ".github").exists()


def test_a_services_table_longer_than_one_step_input_holds_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_test = "make test " + "x" * 2000
    descriptor = services_descriptor(70, test=long_test)
    assert generate(tmp_path, descriptor) == 1
    err = capsys.readouterr().err
    line = line_of(descriptor, "services:")
    assert f"cdgen.yml:{line}:1: services: the changes step's paths and builds would be " in err
    size = int(err.split("builds would be ")[1].split(" bytes")[0].replace(",", ""))
    assert size > ENV_STRING_BYTES
    assert not (tmp_path / ".github").exists()


def test_a_services_workflow_over_500_kb_is_refused_at_services(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Within the other limits (each table under 128 KiB), 130 environments that each list
    every service's Deployment and smoke URL make cd.yml too long."""
    lines = ["version: 1", "name: shop", "services:"]
    for index in range(30):
        lines.append(f"  - name: {'s' * 50}{index:03d}")
    lines.append("environments:")
    for index in range(130):
        lines += [
            f"  - name: env{index}",
            f"    url: https://env{index}.{'a' * 60}.example.com",
            f"    kubernetes: {{ namespace: env{index}, rollout-timeout: 10s }}",
            "    smoke: { path: /health, retries: 0, interval: 1s }",
        ]
    descriptor = "\n".join(lines) + "\n"
    assert generate(tmp_path, descriptor) == 1
    err = capsys.readouterr().err
    line = line_of(descriptor, "services:")
    assert f"cdgen.yml:{line}:1: services: .github/workflows/cd.yml would be " in err
    size = int(err.split("cd.yml would be ")[1].split(" bytes")[0].replace(",", ""))
    assert size > WORKFLOW_FILE_BYTES
    assert "limit of 500 KB for a workflow file" in err
    assert not (tmp_path / ".github").exists()


@pytest.mark.parametrize("count", [1, 10, 100])
def test_the_generated_yaml_for_1_10_and_100_services_is_within_every_limit(
    tmp_path: Path, count: int
) -> None:
    """Measured with two environments (e2e in the first) at the defaults: each file's size
    grows by about half a kilobyte per service and stays far under 500 KB."""
    assert generate(tmp_path, services_descriptor(count, 2, quick=False)) == 0
    workflows = tmp_path / ".github" / "workflows"
    sizes = {p.name: p.stat().st_size for p in workflows.glob("*.yml")}
    assert max(sizes.values()) < WORKFLOW_FILE_BYTES // 5
    cd = YAML(typ="safe").load((workflows / "cd.yml").read_text())
    assert len(cd["jobs"]) - 1 + count <= RUN_JOBS
    assert all(job["timeout-minutes"] <= JOB_MINUTES for job in cd["jobs"].values())
    assert sizes["cd.yml"] < 20_000 + 600 * count
