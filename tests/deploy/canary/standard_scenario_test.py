"""The standard scenario: the golden canary-standard's own descriptor (production: 5% of
the traffic for 10 minutes, error rate and latency, checked every minute) rendered into
cd.yml, its deploy step's inputs handed to the engine as GitHub would fill them in, against
a real Prometheus. Only the waits are cut: ``time_scale`` makes 10 minutes 10 seconds and a
minute one second; the queries, their 1m windows and everything else are production's."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.generated import golden_descriptor, render_descriptor
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.prometheus_server import Prometheus
from support.sandbox import GOOD, deployment
from support.smoke_server import SmokeServer

from cdgen.deploy.cli import run
from cdgen.deploy.inputs import INPUTS_BY_NAME

from ..conftest import Run, Sandbox, parse_outputs
from .conftest import STABLE_REPLICAS, Shape, healthy

IMAGE = "ghcr.io/acme/api@sha256:" + "5" * 64
TOKEN = "ghs_standard_token"
PROM_TOKEN = "prom-t0ken-standard"
SCALE = 1 / 60  # 10m → 10s, 1m → 1s


def deploy_step(tmp_path: Path) -> dict[str, str]:
    """The production deploy step's inputs, as cdgen renders them from the golden."""
    tmp_path.mkdir()
    files = render_descriptor(tmp_path, golden_descriptor("canary-standard"))
    cd = YAML(typ="safe").load(files[".github/workflows/cd.yml"])
    (step,) = [s for s in cd["jobs"]["deploy-production"]["steps"] if s.get("id") == "deploy"]
    return {key: str(value) for key, value in step["with"].items()}


def filled(inputs: dict[str, str], run_time: dict[str, str]) -> dict[str, str]:
    """The inputs as the run fills them in: every GitHub expression must be one we know."""
    done = {}
    for key, given in inputs.items():
        value = given
        for expression, actual in run_time.items():
            value = value.replace(expression, actual)
        assert "${{" not in value, f"{key}: {value}"
        done[key] = value
    return done


@pytest.fixture
def api() -> Iterator[tuple[GitHubApi, GitHubState]]:
    state = GitHubState()
    state.add_history("acme/api", 2)
    with GitHubApi(state, tokens=[TOKEN]) as server:
        yield server, state


def test_the_standard_scenario_promotes_with_production_settings(
    tmp_path: Path,
    sandbox: Sandbox,
    server: SmokeServer,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
    api: tuple[GitHubApi, GitHubState],
) -> None:
    github, github_state = api
    commit = list(github_state.repos["acme/api"].commits)[-1]
    state = sandbox.state()
    state["deployments"]["production/api"] = deployment(GOOD, replicas=STABLE_REPLICAS)
    state["http"][IMAGE] = {}
    sandbox.save(state)
    serve(healthy)
    inputs = filled(
        deploy_step(tmp_path / "render"),
        {
            "${{ needs.build.outputs.image }}@${{ needs.build.outputs.digest }}": IMAGE,
            "${{ secrets.KUBE_CONFIG }}": "",  # the simulator is the ambient kubectl
            "${{ secrets.PROM_URL }}": prometheus.url,
            "${{ secrets.PROM_TOKEN }}": PROM_TOKEN,
            "${{ github.sha }}": commit,
            "${{ github.token }}": TOKEN,
        },
    )
    assert inputs["canary-steps"] == "5" and inputs["canary-pause"] == "10m"
    assert json.loads(inputs["analysis"])["interval"] == "1m"
    # The environment's public URL stands for the service: here, the smoke server.
    inputs["smoke-url"] = f"{server.url}/production/api"
    inputs["smoke-interval"] = "1s"
    result = invoke(tmp_path, inputs, github)
    assert result.code == 0, result.log
    assert result.outputs["result"] == "deployed"
    assert sandbox.state()["deployments"]["production/api"]["containers"] == {"api": IMAGE}
    assert "production/api-canary" not in sandbox.state()["deployments"]
    shown = [line for line in result.log.splitlines() if not line.startswith("::add-mask::")]
    assert not [line for line in shown if PROM_TOKEN in line or TOKEN in line]
    assert f"::add-mask::{PROM_TOKEN}" in result.log

    # The canary: one pod beside 19, the Service's labels and a track, its own selector.
    (apply,) = [argv for argv in sandbox.calls() if argv[0] == "apply"]
    assert apply[1].startswith("--filename=")
    checks = [line for line in result.log.splitlines() if line.startswith("check ")]
    assert len(checks) == 10, result.log  # every minute of the 10, the last at the end
    assert all(line.endswith(": pass") for line in checks)
    summary = result.summary
    assert "| 1 | 5% | 5.0% | 1 beside 19 | 10 | ✅ passed |" in summary
    table = summary.split("### Phases")[1].split("### Canary")[0]
    phases = re.findall(r"^\| ([A-Z][^|]+?) \| ", table, re.M)
    assert phases[phases.index("Plan the canary") :] == [
        "Plan the canary",
        "Open the deployment record",
        "Canary step 1 (5%)",
        "Set image",
        "Rollout",
        "Smoke test",
        "Remove the canary",
    ]
    statuses = [
        call.body["state"]
        for call in github.calls("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses")
    ]
    assert statuses == ["in_progress", "success"]


def invoke(tmp_path: Path, inputs: dict[str, str], github: GitHubApi) -> Run:
    output_file, summary_file = tmp_path / "out", tmp_path / "summary"
    for path in (output_file, summary_file):
        path.write_text("", encoding="utf-8")
    environ: dict[str, Any] = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": "acme/api",
        **{INPUTS_BY_NAME[key].env: value for key, value in inputs.items()},
    }
    stream = io.StringIO()
    code = run([], environ, stream, time_scale=SCALE)
    outputs = parse_outputs(output_file.read_text(encoding="utf-8"))
    return Run(code, stream.getvalue(), outputs, summary_file.read_text(encoding="utf-8"))
