"""The rules a monorepo's pipeline (`services:`) keeps, checked on every services golden:
only the changed services are built (a matrix from the changes step), each environment
deploys them in order, a staging e2e runs once after all of them are live, a failure rolls
back every service the run changed there, promotions and rollback.yml take one service and
check that service's own image."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.generated import GOLDENS

YAML_SAFE = YAML(typ="safe")


def _golden(name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    golden = YAML_SAFE.load((GOLDENS / f"{name}.yml").read_text(encoding="utf-8"))
    files = {rel: YAML_SAFE.load(text) for rel, text in golden["files"].items()}
    return YAML_SAFE.load(golden["descriptor"]), files


SCENARIOS = sorted(p.stem for p in GOLDENS.glob("*.yml") if "services" in _golden(p.stem)[0])
CD, CI, ROLLBACK = (f".github/workflows/{n}.yml" for n in ("cd", "ci", "rollback"))
BUILD_OUTPUTS = "${{ toJSON(needs.build.outputs) }}"


def _names(descriptor: dict[str, Any]) -> list[str]:
    return [service["name"] for service in descriptor["services"]]


def _step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("id") == step_id]
    assert isinstance(step, dict)
    return step


def _index(job: dict[str, Any], step_id: str) -> int:
    return next(i for i, s in enumerate(job["steps"]) if s.get("id") == step_id)


def _pushed_environments(descriptor: dict[str, Any]) -> list[dict[str, Any]]:
    """The environments a push reaches: those before the first manual one."""
    reached = []
    for env in descriptor["environments"]:
        if env.get("approval") == "manual":
            break
        reached.append(env)
    return reached


def test_the_goldens_hold_one_three_and_twelve_services() -> None:
    counts = sorted(len(_golden(name)[0]["services"]) for name in SCENARIOS)
    assert counts == [1, 3, 12]


@pytest.mark.parametrize("name", SCENARIOS)
def test_only_the_changed_services_are_built(name: str) -> None:
    """The changes step, against the last environment a push reaches, lists every service
    with its paths (default: its context); the build is a matrix of what it found and is
    skipped when nothing changed. A pull request's ci.yml builds its changes the same way."""
    descriptor, files = _golden(name)
    base = _pushed_environments(descriptor)[-1]["name"]
    for rel in (CD, CI):
        jobs = files[rel]["jobs"]
        changes = _step(jobs["changes"], "changes")
        assert changes["with"]["mode"] == "changes"
        assert changes["with"]["environment"] == base
        # Only cd.yml reads the deployment records; a pull request compares with its base.
        assert ("github-token" in changes["with"]) is (rel == CD)
        table = json.loads(changes["with"]["services"])
        assert [row["service"] for row in table] == _names(descriptor)
        for row, service in zip(table, descriptor["services"], strict=True):
            context = service.get("image", {}).get("context", ".")
            assert row["paths"] == service.get("paths", [context])
            assert row["context"] == context
        build = jobs["build"]
        assert build["needs"] == ["changes"]
        assert build["if"] == "needs.changes.outputs.any == 'true'"
        assert build["strategy"]["matrix"] == {
            "include": "${{ fromJSON(needs.changes.outputs.matrix) }}"
        }
        assert build["strategy"]["fail-fast"] is False
        checkout = jobs["changes"]["steps"][0]["with"]
        assert checkout["fetch-depth"] == 0 and checkout["persist-credentials"] is False


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_build_publishes_its_own_image_by_digest(name: str) -> None:
    """The build's outputs are one per service, each set only by that service's leg: the
    deploys get `toJSON(needs.build.outputs)`, in which a service not built is empty (and
    left alone by the action). The image is never rebuilt after build."""
    descriptor, files = _golden(name)
    build = files[CD]["jobs"]["build"]
    assert build["outputs"] == {
        n: f"${{{{ steps.publish.outputs.{n} }}}}" for n in _names(descriptor)
    }
    publish = _step(build, "publish")
    assert publish["env"]["SERVICE"] == "${{ matrix.service }}"
    assert publish["env"]["DIGEST"] == "${{ steps.push.outputs.digest }}"
    assert 'echo "$SERVICE=$IMAGE@$DIGEST" >> "$GITHUB_OUTPUT"' in publish["run"]
    push = _step(build, "push")["with"]
    assert push["push"] is True
    assert push["cache-to"] == "type=gha,mode=max,scope=${{ matrix.service }}"
    assert build["concurrency"]["group"].endswith("${{ matrix.service }}")


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_environment_deploys_the_changed_services_in_order(name: str) -> None:
    """A job per environment, after the one before it, deploys this run's images (the build's
    or, for a manual environment, the promotion's) of every service in one step, each to its
    own Deployment; each step records the images' commit and names each service."""
    descriptor, files = _golden(name)
    jobs = files[CD]["jobs"]
    previous = None
    for env in descriptor["environments"]:
        job = jobs[f"deploy-{env['name']}"]
        deploy = _step(job, "deploy")["with"]
        assert deploy["mode"] == "deploy" and deploy["environment"] == env["name"]
        assert deploy["services"] == "${{ env.CDGEN_TARGETS }}"
        assert deploy["record-open"] == "true"
        if env.get("approval") == "manual":
            assert job["needs"] == ["promotion"]
            assert deploy["images"] == "${{ needs.promotion.outputs.images }}"
            assert deploy["commit"] == "${{ needs.promotion.outputs.commit }}"
        else:
            assert job["needs"] == ["build"] + ([f"deploy-{previous}"] if previous else [])
            assert deploy["images"] == BUILD_OUTPUTS
            assert deploy["commit"] == "${{ github.sha }}"
            previous = env["name"]
        targets = json.loads(job["env"]["CDGEN_TARGETS"])
        assert [t["service"] for t in targets] == _names(descriptor)
        for target, service in zip(targets, descriptor["services"], strict=True):
            assert target.get("deployment", service["name"]) == _deployment(service, env)


def _deployment(service: dict[str, Any], env: dict[str, Any]) -> str:
    """The service's Deployment in `env`, as the descriptor states it."""
    own = service.get("kubernetes", {}).get("deployment", service["name"])
    for override in service.get("environments", []):
        if override["name"] == env["name"]:
            return str(override.get("kubernetes", {}).get("deployment", own))
    return str(own)


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_e2e_tests_run_once_after_every_changed_service_is_live(name: str) -> None:
    """In an environment with e2e: one test step, after the deploy of every service and a
    check that this run's images are the live ones; nothing is deployed after it."""
    descriptor, files = _golden(name)
    for env in descriptor["environments"]:
        job = files[CD]["jobs"][f"deploy-{env['name']}"]
        tests = [s for s in job["steps"] if s.get("id") == "e2e"]
        if "e2e" not in env:
            assert tests == []
            continue
        assert len(tests) == 1
        e2e = _index(job, "e2e")
        assert _index(job, "deploy") < e2e - 1
        verify = job["steps"][e2e - 1]["with"]
        assert verify["mode"] == "verify"
        assert verify["images"] == _step(job, "deploy")["with"]["images"]
        assert verify["services"] == "${{ env.CDGEN_TARGETS }}"
        later = [s.get("with", {}).get("mode") for s in job["steps"][e2e + 1 :]]
        assert "deploy" not in later
        assert tests[0]["env"]["BASE_URL"] == env["url"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_failure_rolls_back_every_service_the_run_changed(name: str) -> None:
    """A failed deploy of any service (or failed tests, with rollback-on-failure, or a
    cancellation) rolls back, from the deploy step's own results, every service it changed
    in that environment; otherwise the records it left open are closed."""
    descriptor, files = _golden(name)
    for env in descriptor["environments"]:
        job = files[CD]["jobs"][f"deploy-{env['name']}"]
        rollback = _step(job, "rollback")
        assert rollback["with"]["mode"] == "rollback"
        assert rollback["with"]["results"] == "${{ steps.deploy.outputs.services }}"
        assert rollback["with"]["services"] == "${{ env.CDGEN_TARGETS }}"
        assert "images" not in rollback["with"]
        assert rollback["if"].startswith("always() && steps.deploy.outputs.services != ''")
        assert "steps.deploy.outcome != 'success'" in rollback["if"]
        on_tests = env.get("e2e", {}).get("rollback-on-failure", False)
        assert ("steps.e2e.outcome != 'success'" in rollback["if"]) is on_tests
        assert _index(job, "rollback") > _index(job, "deploy")
        close = job["steps"][_index(job, "rollback") + 1]
        assert close["with"]["mode"] == "record"
        assert close["with"]["results"] == "${{ steps.deploy.outputs.services }}"
        assert "steps.rollback.outcome == 'skipped'" in close["if"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_promotion_checks_the_chosen_service_s_own_image(name: str) -> None:
    """A manual environment promotes one service: the dispatch offers every service, the
    image is named after that service, and it must have a successful deploy record of that
    very image, naming that service, in the environment before."""
    descriptor, files = _golden(name)
    manual = [e for e in descriptor["environments"] if e.get("approval") == "manual"]
    cd = files[CD]
    if not manual:
        assert "promotion" not in cd["jobs"]
        return
    inputs = cd["on"]["workflow_dispatch"]["inputs"]
    assert inputs["service"]["options"] == _names(descriptor)
    job = cd["jobs"]["promotion"]
    name_step = job["steps"][0]
    assert name_step["env"]["SERVICE"] == "${{ inputs.service }}"
    for service in _names(descriptor):
        assert re.search(rf"^\s*{service}\) repository=", name_step["run"], re.M)
    verify = _step(job, "verify")
    assert verify["env"]["SERVICE"] == "${{ inputs.service }}"
    assert "--jq .payload.service)" in verify["run"]
    assert '[ "$named" = "$SERVICE" ] || continue' in verify["run"]
    assert '[ "$deployed" = "$IMAGE@$digest" ] || continue' in verify["run"]
    assert 'echo "images={\\"$SERVICE\\":\\"$IMAGE@$digest\\"}"' in verify["run"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_rollback_yml_takes_a_service(name: str) -> None:
    """rollback.yml asks for the environment, the service and its known-good image; it
    queues per environment and service, apart from every deploy, and redeploys only the
    image it checked for that service."""
    descriptor, files = _golden(name)
    rollback, cd = files[ROLLBACK], files[CD]
    inputs = rollback["on"]["workflow_dispatch"]["inputs"]
    assert inputs["service"]["options"] == _names(descriptor)
    assert inputs["service"]["required"] is True
    group = rollback["concurrency"]["group"]
    assert group == "cdgen-rollback-${{ inputs.environment }}-${{ inputs.service }}"
    assert rollback["concurrency"]["cancel-in-progress"] is False
    for job in cd["jobs"].values():
        assert "cdgen-rollback" not in job.get("concurrency", {}).get("group", "")
        assert job.get("concurrency", {}).get("cancel-in-progress", False) is False
    assert _step(rollback["jobs"]["resolve"], "verify")["env"]["SERVICE"] == "${{ inputs.service }}"
    for env in descriptor["environments"]:
        job = rollback["jobs"][f"rollback-{env['name']}"]
        assert job["if"] == f"inputs.environment == '{env['name']}'"
        assert job["environment"]["deployment"] is False
        step = _step(job, "rollback")["with"]
        assert step["mode"] == "rollback"
        assert step["images"] == "${{ needs.resolve.outputs.images }}"
        assert step["commit"] == "${{ needs.resolve.outputs.commit }}"
        assert json.loads(job["env"]["CDGEN_TARGETS"]) == json.loads(
            files[CD]["jobs"][f"deploy-{env['name']}"]["env"]["CDGEN_TARGETS"]
        )


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_action_records_each_deploy_never_github(name: str) -> None:
    """As for one service: GitHub makes no record of its own; the action records each
    service's deploy with the images' commit."""
    _, files = _golden(name)
    for rel in (CD, ROLLBACK):
        for job_id, job in files[rel]["jobs"].items():
            if "environment" not in job:
                assert job["permissions"].get("deployments") in (None, "read"), job_id
                continue
            assert job["environment"]["deployment"] is False, job_id
            assert job["permissions"]["deployments"] == "write", job_id
