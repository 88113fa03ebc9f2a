"""A canary deploy job rendered by cdgen, unchanged, run under act: the action releases the
canary against the kubectl simulator, a real Prometheus judges it (its URL an environment
secret, as `prometheus-secret` makes it), and the job promotes or rolls back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.metrics_exporter import Exporter, Traffic, start_exporter
from support.prometheus_server import Prometheus, start_prometheus
from support.sandbox import GOOD, deployment

from cdgen.generate import Target, render_target

from .conftest import ACTION_REF, ActRun, Lab, for_act, init_repo, run_act
from .rendered_deploy_test import REPORT, STUB_BUILD

pytestmark = pytest.mark.slow

REPOSITORY = "ghcr.io/acme/api"
HEALTHY = "sha256:" + "3" * 64
SPIKY = "sha256:" + "4" * 64
NAMESPACE = "render-canary"
DESCRIPTOR = """\
version: 1
name: api
image: {{ repository: acme/api }}
environments:
  - name: staging
    url: {url}
    kubernetes: {{ kubeconfig-secret: KUBE_CONFIG, namespace: render-canary, deployment: api }}
    smoke: {{ path: /api, retries: 1, interval: 1s }}
    canary:
      steps: [5, 25]
      pause: 3s
      analysis:
        prometheus-secret: PROM_URL
        interval: 1s
        metrics:
          - name: error-rate
            query: sum(rate(http_requests_total{{deployment="$canary",code=~"5.."}}[1m])) / sum(rate(http_requests_total{{deployment="$canary"}}[1m]))
            max: 0.01
action: {{ ref: {ref}, version: v1.0.0 }}
"""


@pytest.fixture(scope="module")
def judged(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Exporter, Prometheus]]:
    """A Prometheus scraping the pods of the lab's Deployments: the canary of the digest
    SPIKY fails half its requests."""

    def traffic() -> dict[str, Traffic]:
        found = {}
        for key, record in lab.state()["deployments"].items():
            namespace, name = key.split("/", 1)
            if namespace == NAMESPACE and record.get("replicas", 1):
                spiky = name.endswith("-canary") and SPIKY in str(record["containers"])
                found[name] = Traffic(error_ratio=0.5 if spiky else 0.0)
        return found

    exporter = start_exporter(traffic)
    prometheus = start_prometheus(tmp_path_factory.mktemp("act-prometheus"), [exporter.address])
    yield exporter, prometheus
    prometheus.stop()
    exporter.shutdown()
    exporter.server_close()


@pytest.fixture(scope="module")
def rendered(
    lab: Lab, action_checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    base = tmp_path_factory.mktemp("rendered-canary")
    (base / "render").mkdir()
    config = base / "render" / "cdgen.yml"
    config.write_text(
        DESCRIPTOR.format(url=f"{lab.server.url}/{NAMESPACE}", ref=ACTION_REF), encoding="utf-8"
    )
    generated: dict[str, Any] = YAML(typ="safe").load(
        render_target(Target(config, base / "render")).files[".github/workflows/cd.yml"]
    )
    deploy_job = generated["jobs"]["deploy-staging"]
    jobs = {"build": STUB_BUILD, "deploy-staging": deploy_job, "report": REPORT}
    repo = base / "repo"
    repo.mkdir()
    init_repo(
        repo,
        {".github/workflows/cd.yml": json.dumps(for_act({**generated, "jobs": jobs}), indent=1)},
    )

    def prepare(state: dict[str, Any]) -> None:
        state["deployments"][f"{NAMESPACE}/api"] = deployment(replicas=19)
        state["http"][f"{REPOSITORY}@{HEALTHY}"] = {}
        state["http"][f"{REPOSITORY}@{SPIKY}"] = {}

    lab.update(prepare)
    return deploy_job, repo


def _act(lab: Lab, checkout: Path, repo: Path, digest: str, prometheus: Prometheus) -> ActRun:
    env = {
        "PATH": f"{lab.bin_dir}:{os.environ['PATH']}",
        "KUBE_CONFIG": "apiVersion: v1\nkind: Config\n",
        "PROM_URL": prometheus.url,
    }
    return run_act(
        repo,
        checkout,
        event={"ref": "refs/heads/main", "head_commit": {"timestamp": "2026-01-01T00:00:00Z"}},
        env=env,
        secrets=("KUBE_CONFIG", "PROM_URL"),
        extra=["--env", f"STUB_DIGEST={digest}"],
    )


def test_the_rendered_step_passes_the_canary_as_inputs(
    rendered: tuple[dict[str, Any], Path],
) -> None:
    (step,) = rendered[0]["steps"]
    inputs = step["with"]
    assert inputs["strategy"] == "canary" and inputs["canary-steps"] == "5,25"
    assert inputs["analysis-url"] == "${{ secrets.PROM_URL }}"
    assert json.loads(inputs["analysis"])["metrics"][0]["name"] == "error-rate"
    assert not any("run" in s for s in rendered[0]["steps"])  # the queries never reach a shell


def test_a_healthy_canary_is_promoted_under_act(
    lab: Lab,
    action_checkout: Path,
    rendered: tuple[dict[str, Any], Path],
    judged: tuple[Exporter, Prometheus],
) -> None:
    run = _act(lab, action_checkout, rendered[1], HEALTHY, judged[1])
    assert run.code == 0, run.log
    assert f"REPORT result=deployed previous={GOOD} deployed={REPOSITORY}@{HEALTHY}" in run.log
    summary = run.summary("deploy-staging")
    assert "Decision: **promoted**" in summary
    assert "| 2 | 25% | 26.9% | 7 beside 19 |" in summary
    deployments = lab.state()["deployments"]
    assert f"{NAMESPACE}/api-canary" not in deployments
    assert deployments[f"{NAMESPACE}/api"]["containers"] == {"api": f"{REPOSITORY}@{HEALTHY}"}
    assert judged[1].url not in run.log  # a secret: masked


def test_a_failing_canary_is_rolled_back_under_act(
    lab: Lab,
    action_checkout: Path,
    rendered: tuple[dict[str, Any], Path],
    judged: tuple[Exporter, Prometheus],
) -> None:
    live = lab.state()["deployments"][f"{NAMESPACE}/api"]["containers"]["api"]
    run = _act(lab, action_checkout, rendered[1], SPIKY, judged[1])
    assert run.code != 0
    assert run.job_failed("deploy-staging"), run.log
    assert f"REPORT result=rolled-back previous={live} deployed={live}" in run.log
    assert "canary step 1 (5%): error-rate was" in run.summary("deploy-staging")
    deployments = lab.state()["deployments"]
    assert f"{NAMESPACE}/api-canary" not in deployments
    assert deployments[f"{NAMESPACE}/api"]["containers"] == {"api": live}
