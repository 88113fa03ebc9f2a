"""The rules the generated pipeline keeps where only github.com could show a violation: each
test states its rule and checks it on every golden scenario's output."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.generated import GOLDENS

from cdgen.model import seconds

YAML_SAFE = YAML(typ="safe")
SCENARIOS = sorted(p.stem for p in GOLDENS.glob("*.yml"))


def _golden(name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the descriptor, every generated file parsed), from the golden file."""
    golden = YAML_SAFE.load((GOLDENS / f"{name}.yml").read_text(encoding="utf-8"))
    files = {rel: YAML_SAFE.load(text) for rel, text in golden["files"].items()}
    return YAML_SAFE.load(golden["descriptor"]), files


# Scenarios of an image; a static site's (site:) own rules are in site_pipeline_rules_test.py.
IMAGE_SCENARIOS = [name for name in SCENARIOS if "site" not in _golden(name)[0]]
# One Deployment (or one site); a monorepo's (services:) rules of the same kind are in
# services_pipeline_rules_test.py.
SINGLE_SCENARIOS = [name for name in SCENARIOS if "services" not in _golden(name)[0]]
SINGLE_IMAGE_SCENARIOS = [name for name in SINGLE_SCENARIOS if name in IMAGE_SCENARIOS]


def _scenarios() -> Iterator[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]]:
    for name in SCENARIOS:
        descriptor, files = _golden(name)
        yield name, descriptor, files


def _steps_by_id(job: dict[str, Any]) -> dict[str, int]:
    return {step["id"]: index for index, step in enumerate(job["steps"]) if "id" in step}


def _own_action(step: dict[str, Any]) -> bool:
    """A step of cdgen's composite action (the goldens pin cdgen-dev/cdgen or a fork)."""
    return re.match(r"[\w.-]+/cdgen(-fork)?@", step.get("uses", "")) is not None


def critical_path(workflow: dict[str, Any], last: str) -> list[str]:
    """The longest chain of `needs` ending at job `last`: the jobs (runner start-ups) that
    run one after another from the push to it."""
    jobs = workflow["jobs"]

    def chain(job: str) -> list[str]:
        needs = jobs[job].get("needs", [])
        longest = max((chain(n) for n in needs), key=len, default=[])
        return [*longest, job]

    return chain(last)


@pytest.mark.parametrize("name", SINGLE_SCENARIOS)
def test_one_job_per_environment_holds_deploy_e2e_and_rollback(name: str) -> None:
    """Rule (item 7): approval is asked once per environment, before anything changes: one
    job deploys, runs the e2e tests and rolls back after them, so no second job (which would
    wait for approval again) stands between a failed test and the rollback."""
    descriptor, files = _golden(name)
    cd = files[".github/workflows/cd.yml"]
    for env in descriptor["environments"]:
        jobs = [
            job
            for job in cd["jobs"].values()
            if job.get("environment", {}).get("name") == env["name"]
        ]
        assert len(jobs) == 1, env["name"]
        (job,) = jobs
        ids = _steps_by_id(job)
        assert "deploy" in ids
        if "e2e" in env:
            assert ids["deploy"] < ids["e2e"]
            if env["e2e"].get("rollback-on-failure"):
                assert ids["e2e"] < ids["rollback"]
        else:
            assert "e2e" not in ids and "rollback" not in ids


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_timed_out_e2e_fails_its_step_and_rolls_back(name: str) -> None:
    """Rule (item 6): the tests run under coreutils `timeout` (the step fails, it is not
    cancelled), with the step's timeout-minutes as a backstop one minute later; the rollback
    runs after any outcome of the tests but success, a cancellation included."""
    descriptor, files = _golden(name)
    cd = files[".github/workflows/cd.yml"]
    for env in descriptor["environments"]:
        if "e2e" not in env:
            continue
        job = cd["jobs"][f"deploy-{env['name']}"]
        e2e = job["steps"][_steps_by_id(job)["e2e"]]
        timeout = env["e2e"].get("timeout", "25m")
        assert e2e["env"]["E2E_TIMEOUT"] == timeout
        assert 'timeout --kill-after=30s "$E2E_TIMEOUT" bash' in e2e["run"]
        assert e2e["timeout-minutes"] == math.ceil(seconds(timeout) / 60) + 1
        assert job["timeout-minutes"] > e2e["timeout-minutes"]
        if env["e2e"].get("rollback-on-failure"):
            rollback = job["steps"][_steps_by_id(job)["rollback"]]
            assert rollback["if"].startswith("always() && ")
            assert "steps.e2e.outcome != 'success'" in rollback["if"]
            if "services" in descriptor:  # each service's image it set, in the results
                assert rollback["with"]["results"] == "${{ steps.deploy.outputs.services }}"
            else:
                live = rollback["with"]["only-if-live"]
                assert live == "${{ steps.deploy.outputs.deployed-image }}"


@pytest.mark.parametrize("name", SINGLE_IMAGE_SCENARIOS)
def test_e2e_runs_only_against_this_runs_image(name: str) -> None:
    """Rule (item 8): before the tests, a step checks that the image this job deployed is the
    live one (and shows the commit when expect-version is set); deploy and tests share a job,
    so a re-run of a failed job deploys again before it tests again."""
    descriptor, files = _golden(name)
    cd = files[".github/workflows/cd.yml"]
    for env in descriptor["environments"]:
        if "e2e" not in env:
            continue
        job = cd["jobs"][f"deploy-{env['name']}"]
        ids = _steps_by_id(job)
        verify = job["steps"][ids["e2e"] - 1]
        deploy = job["steps"][ids["deploy"]]
        assert _own_action(verify) and verify["with"]["mode"] == "verify"
        assert verify["with"]["image"] == deploy["with"]["image"]
        if env.get("smoke", {}).get("expect-version"):
            assert verify["with"]["expect-version"] == deploy["with"]["commit"]


@pytest.mark.parametrize("name", SINGLE_SCENARIOS)
def test_a_waiting_rollback_is_never_displaced_by_a_deploy(name: str) -> None:
    """Rule (item 10): a concurrency group keeps one waiting run and cancels it when a newer
    one queues; so rollback.yml queues in groups no deploy job uses, and no deploy or rollback
    cancels a running one. (The action's lock on the Deployment keeps them from running at
    once.)"""
    _, files = _golden(name)
    cd, rollback = files[".github/workflows/cd.yml"], files[".github/workflows/rollback.yml"]
    deploy_groups = {
        job["concurrency"]["group"] for job in cd["jobs"].values() if "concurrency" in job
    }
    assert rollback["concurrency"]["group"] == "cdgen-rollback-${{ inputs.environment }}"
    assert rollback["concurrency"]["cancel-in-progress"] is False
    assert all("cdgen-rollback" not in group for group in deploy_groups)
    for job in [*cd["jobs"].values(), *rollback["jobs"].values()]:
        assert job.get("concurrency", {}).get("cancel-in-progress", False) is False
        assert "concurrency" not in job or not job["concurrency"]["group"].startswith(
            "cdgen-rollback"
        )


@pytest.mark.parametrize("name", SINGLE_SCENARIOS)
def test_deployment_records_are_written_by_the_action_with_the_image_commit(name: str) -> None:
    """Rule (item 14): GitHub makes no record of its own (it would name the triggering commit,
    and a rejected approval would look like a failed deploy): every environment job says
    `deployment: false` and lets the action record the image's commit, once per deploy."""
    _, files = _golden(name)
    for rel in (".github/workflows/cd.yml", ".github/workflows/rollback.yml"):
        for job_id, job in files[rel]["jobs"].items():
            if "environment" not in job:
                assert job["permissions"].get("deployments") in (None, "read"), job_id
                continue
            assert job["environment"]["deployment"] is False, job_id
            assert job["permissions"]["deployments"] == "write", job_id
            opened = [
                s
                for s in job["steps"]
                if _own_action(s)
                and "github-token" in s["with"]
                and s["with"]["mode"] in ("deploy", "rollback")
            ]
            assert len(opened) == 1, job_id  # one record per deploy
            assert re.fullmatch(
                r"\$\{\{ (github\.sha|needs\.\w+\.outputs\.commit) \}\}",
                opened[0]["with"]["commit"],
            )


@pytest.mark.parametrize("name", SINGLE_IMAGE_SCENARIOS)
def test_only_the_deploy_branch_builds_a_promotable_image(name: str) -> None:
    """Rule (item 4): build, push and attest run only on the deploy branch, and promotions
    and rollbacks accept only images whose certificate names cd.yml on that branch."""
    descriptor, files = _golden(name)
    branch = descriptor.get("branch", "main")
    cd = files[".github/workflows/cd.yml"]
    assert cd["jobs"]["build"]["if"].startswith(f"github.ref == 'refs/heads/{branch}'")
    verify_steps = [
        step
        for rel in (".github/workflows/cd.yml", ".github/workflows/rollback.yml")
        for job in files[rel]["jobs"].values()
        for step in job["steps"]
        if step.get("id") == "verify"
    ]
    assert verify_steps
    attest = descriptor.get("image", {}).get("attest", True)
    for step in verify_steps:
        assert step["env"]["BRANCH"] == branch
        if attest:
            assert '--cert-identity "$identity"' in step["run"]
            assert "/.github/workflows/cd.yml@refs/heads/$BRANCH" in step["run"]
            assert "--predicate-type https://slsa.dev/provenance/v1" in step["run"]
            assert ".verificationResult.signature.certificate.sourceRepositoryDigest" in step["run"]
            assert "--signer-workflow" not in step["run"]
        else:
            assert "gh attestation" not in step["run"]
            assert "compare/$BRANCH...$WANTED" in step["run"]


@pytest.mark.parametrize("name", IMAGE_SCENARIOS)
def test_attestation_follows_image_attest(name: str) -> None:
    """Rules (items 3, 5): with attestations, the attest step creates no storage record
    (that needs artifact-metadata: write); without them, nothing asks for an OIDC token but
    a registry login over OIDC."""
    descriptor, files = _golden(name)
    build = files[".github/workflows/cd.yml"]["jobs"]["build"]
    attest_steps = [s for s in build["steps"] if "attest-build-provenance" in s.get("uses", "")]
    login = descriptor.get("image", {}).get("login", {})
    if descriptor.get("image", {}).get("attest", True):
        (step,) = attest_steps
        assert step["with"]["create-storage-record"] is False
        assert build["permissions"]["id-token"] == "write"
    else:
        assert attest_steps == []
        oidc = bool({"aws", "gcp", "azure"} & set(login))
        assert ("id-token" in build["permissions"]) is oidc
        assert "attestations" not in build["permissions"]


@pytest.mark.parametrize("name", SINGLE_IMAGE_SCENARIOS)
def test_the_push_build_writes_the_layer_cache_of_every_platform(name: str) -> None:
    """Rule (item 9): the multi-platform push build writes the cache (mode=max); the native
    test build and pull requests only read it."""
    _, files = _golden(name)
    build = files[".github/workflows/cd.yml"]["jobs"]["build"]
    builds = {
        s["name"]: s["with"] for s in build["steps"] if "build-push-action" in s.get("uses", "")
    }
    assert builds["Push the tested image"]["cache-to"] == "type=gha,mode=max"
    for step_name, inputs in builds.items():
        if step_name != "Push the tested image":
            assert "cache-to" not in inputs
    ci = files[".github/workflows/ci.yml"]["jobs"]["build"]
    assert all("cache-to" not in s.get("with", {}) for s in ci["steps"])


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_drift_check_installs_cdgen_pinned(name: str) -> None:
    """Rule (item 1): the drift check runs the cdgen that generated the files, from its
    commit in the action's repository, with hash-pinned dependencies; nothing is installed
    by name from a package index."""
    descriptor, files = _golden(name)
    job = files[".github/workflows/cdgen.yml"]["jobs"]["check"]
    checkout = job["steps"][1]
    repository = descriptor.get("action", {}).get("repository", "cdgen-dev/cdgen")
    assert checkout["with"]["repository"] == repository
    assert checkout["with"]["persist-credentials"] is False
    install = job["steps"][2]["run"]
    assert "--require-hashes --only-binary=:all: -r .cdgen/requirements-runtime.txt" in install
    assert '[ "$actual" != "$CDGEN_COMMIT" ]' in install
    text = "\n".join(str(step.get("run", "")) for step in job["steps"])
    assert "pipx" not in text and "pip install cdgen" not in text


@pytest.mark.parametrize("name", SCENARIOS)
def test_dependabot_leaves_cdgens_own_action_alone(name: str) -> None:
    """Rule (item 2): the descriptor and the installed cdgen decide cdgen's own pin."""
    descriptor, files = _golden(name)
    repository = descriptor.get("action", {}).get("repository", "cdgen-dev/cdgen")
    (update,) = files[".github/dependabot.yml"]["updates"]
    ignored = {entry["dependency-name"] for entry in update["ignore"]}
    assert ignored == {repository, f"{repository}/*"}


def test_the_critical_path_from_push_to_production() -> None:
    """Item 7's measure: the article's pipeline (staging with e2e, production behind
    reviewers) runs 3 jobs one after another from a push to production; 4 before, when e2e
    (and a rollback after it) were jobs of their own."""
    _, files = _golden("article")
    path = critical_path(files[".github/workflows/cd.yml"], "deploy-production")
    assert path == ["build", "deploy-staging", "deploy-production"]


def test_job_timeouts_cover_the_action_s_lock_wait() -> None:
    """A deploy or rollback may first wait for another one of the Deployment (the action's
    lock, lock-wait 15m by default): the job's timeout counts that wait, so the job is not
    cancelled while it waits its turn."""
    from cdgen.deploy.durations import parse_duration
    from cdgen.deploy.inputs import INPUTS_BY_NAME
    from cdgen.model import LOCK_WAIT_SECONDS

    assert parse_duration(INPUTS_BY_NAME["lock-wait"].default) == LOCK_WAIT_SECONDS
    _, files = _golden("minimal")
    rollback = files[".github/workflows/rollback.yml"]
    for job_id, job in rollback["jobs"].items():
        if job_id.startswith("rollback-"):
            assert job["timeout-minutes"] * 60 > LOCK_WAIT_SECONDS + 2 * 5 * 60
