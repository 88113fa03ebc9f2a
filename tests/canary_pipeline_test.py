"""Rules a canary keeps in the generated pipeline, checked on every golden scenario: the
canary runs only where the descriptor asks for one and only when deploying (never in a
rollback), its queries reach the action as an input equal to the descriptor's, never a
shell, and the deploy job's time limit covers its steps and pauses."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pipeline_rules_test import SCENARIOS, _golden, _own_action

from cdgen.deploy.canary_options import canary_worst_case
from cdgen.model import seconds

CANARY_INPUTS = {"strategy", "canary-traffic", "canary-route", "canary-steps", "canary-pause"}
CANARY_INPUTS |= {"analysis", "analysis-url", "analysis-token"}
# The goldens with a canary in some environment: the rules below have nothing to check in
# the others.
CANARY_SCENARIOS = [
    name
    for name in SCENARIOS
    if any("canary" in env for env in _golden(name)[0].get("environments", []))
]
assert CANARY_SCENARIOS, "no golden has a canary: these rules would check nothing"


def _action_steps(files: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (rel, job_id, step)
        for rel, workflow in files.items()
        if rel.startswith(".github/workflows/")
        for job_id, job in workflow["jobs"].items()
        for step in job.get("steps", [])
        if _own_action(step)
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_canary_only_where_asked_and_only_when_deploying(name: str) -> None:
    descriptor, files = _golden(name)
    with_canary = {env["name"] for env in descriptor["environments"] if "canary" in env}
    for rel, job_id, step in _action_steps(files):
        inputs = step["with"]
        canary = CANARY_INPUTS & set(inputs)
        deploying = inputs["mode"] == "deploy" and rel.endswith("cd.yml")
        if deploying and inputs["environment"] in with_canary:
            assert inputs["strategy"] == "canary", (rel, job_id)
        else:
            assert not canary, (rel, job_id, canary)


@pytest.mark.parametrize("name", CANARY_SCENARIOS)
def test_the_queries_are_the_descriptors_and_never_reach_a_shell(name: str) -> None:
    descriptor, files = _golden(name)
    canaries = {env["name"]: env["canary"] for env in descriptor["environments"] if "canary" in env}
    for _rel, _job_id, step in _action_steps(files):
        if "analysis" not in step["with"]:
            continue
        analysis = json.loads(step["with"]["analysis"])
        wanted = canaries[step["with"]["environment"]]["analysis"]
        assert [m["query"] for m in analysis["metrics"]] == [m["query"] for m in wanted["metrics"]]
        assert analysis.get("prometheus") == wanted.get("prometheus")
    for rel, workflow in files.items():
        if not rel.startswith(".github/workflows/"):
            continue
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                for canary in canaries.values():
                    for metric in canary["analysis"]["metrics"]:
                        assert metric["query"] not in step.get("run", "")


@pytest.mark.parametrize("name", CANARY_SCENARIOS)
def test_the_deploy_jobs_time_limit_covers_the_canary(name: str) -> None:
    descriptor, files = _golden(name)
    cd = files[".github/workflows/cd.yml"]
    for env in descriptor["environments"]:
        if "canary" not in env:
            continue
        canary = env["canary"]
        rollout = seconds(env["kubernetes"].get("rollout-timeout", "5m"))
        worst = canary_worst_case(
            len(canary.get("steps", [5])),
            seconds(canary.get("pause", "10m")),
            rollout,
            len(canary["analysis"]["metrics"]),
        )
        job = cd["jobs"][f"deploy-{env['name']}"]
        assert job["timeout-minutes"] * 60 >= worst + 2 * rollout
        assert job["timeout-minutes"] >= math.ceil(worst / 60)
