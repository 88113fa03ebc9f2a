"""The real action.yml under act: every engine scenario as a job of one workflow."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.sandbox import GOOD, deployment, image

from .conftest import ACTION, ACTION_REF, ActRun, Lab, init_repo, run_act

pytestmark = pytest.mark.slow

TOKEN = "act-s3cr3t-t0ken-77e1c2"
KUBECONFIG = f"apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {TOKEN}\n"
COMMIT_TIME = "2026-01-01T00:00:00Z"
State = dict[str, Any]


@dataclass
class Scenario:
    job: str
    inputs: dict[str, str]
    result: str
    setup: Callable[[State], None] | None = None
    continue_on_error: bool = True
    outcome: str = field(init=False, default="")
    live: str | None = None  # deployed-image, when the result alone does not tell


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _never_ready_undo(state: State) -> None:
    state["fail_undo"] = ["undo-fails"]


def _leak(state: State) -> None:
    state["leak_kubeconfig"] = ["kubeconfig"]


def _v2_live(state: State) -> None:
    dep = deployment(image("v2"))
    dep["history"] = [
        {"revision": 1, "containers": {"api": GOOD}},
        {"revision": 2, "containers": {"api": image("v2")}},
    ]
    dep["revision"] = 2
    state["deployments"]["rollback-mode/api"] = dep


def _paused(state: State) -> None:
    state["deployments"]["paused/api"] = deployment(paused=True)


def _set_image_times_out(state: State) -> None:
    state["set_image_times_out"] = ["set-image-times-out"]


def _v3_live(state: State) -> None:
    # Run A deployed v2; before A's e2e tests failed, run B deployed v3.
    state["deployments"]["only-if-live/api"] = deployment(image("v3"))


LOCK = "cdgen.dev/deploy-lock"
HELD = "https://github.com/acme/api/actions/runs/7/attempts/1 (rollback x); expires 2099-01-01T00:00:00Z; for 3600s"


def _locked(state: State) -> None:
    state["deployments"]["locked/api"]["annotations"] = {LOCK: HELD}


SCENARIOS = [
    Scenario(
        "healthy",
        {"image": image("v2"), "expect-version": "v2", "environment": "Staging"},
        "deployed",
    ),
    Scenario("rollout-timeout", {"image": image("never-ready")}, "rolled-back"),
    Scenario("smoke-5xx", {"image": image("broken"), "smoke-retries": "1"}, "rolled-back"),
    Scenario(
        "refused",
        {"image": image("v2"), "smoke-url": f"http://127.0.0.1:{_closed_port()}/"},
        "rolled-back",
    ),
    Scenario("slow", {"image": image("slow")}, "rolled-back"),
    Scenario(
        "flaky", {"image": image("flaky"), "smoke-retries": "3", "smoke-interval": "1s"}, "deployed"
    ),
    Scenario(
        "wrong-version",
        {"image": image("wrong-version"), "expect-version": "abc1234"},
        "rolled-back",
    ),
    Scenario("undo-fails", {"image": image("broken")}, "failed", _never_ready_undo),
    Scenario("malformed", {"image": "ghcr.io/acme/api", "smoke-retries": "lots"}, "failed"),
    Scenario("kubeconfig", {"image": image("v2"), "kubeconfig": KUBECONFIG}, "deployed", _leak),
    Scenario("rollback-mode", {"mode": "rollback", "image": GOOD}, "rolled-back", _v2_live),
    Scenario(
        "only-if-live",
        {"mode": "rollback", "image": GOOD, "only-if-live": image("v2")},
        "skipped",
        _v3_live,
    ),
    Scenario("job-fails", {"image": image("broken")}, "rolled-back", continue_on_error=False),
    Scenario("paused", {"image": image("v2")}, "failed", _paused, live=GOOD),
    Scenario("set-image-times-out", {"image": image("v2")}, "rolled-back", _set_image_times_out),
    Scenario("verify", {"mode": "verify", "image": GOOD}, "verified", live=GOOD),
    Scenario("locked", {"image": image("v2"), "lock-wait": "0s"}, "failed", _locked),
]
SUCCEEDS = {"healthy", "flaky", "kubeconfig", "rollback-mode", "only-if-live", "verify"}
# The image read before anything changed ("": not read, the lock stopped the run first).
LIVE_BEFORE = {"rollback-mode": image("v2"), "only-if-live": image("v3"), "locked": ""}

RECORD = """\
python3 -c 'import json, os; print(json.dumps({k: os.environ[k] for k in ("RESULT", "PREVIOUS", "DEPLOYED", "OUTCOME")}))' > "$OUT_DIR/$JOB.json"
"""


def _job(scenario: Scenario, lab: Lab) -> dict[str, Any]:
    inputs = {
        "namespace": scenario.job,
        "deployment": "api",
        "rollout-timeout": "1s",
        "smoke-url": lab.smoke_url(scenario.job),
        "smoke-retries": "0",
        "smoke-interval": "0s",
        "smoke-timeout": "1s",
        **scenario.inputs,
    }
    action: dict[str, Any] = {"id": "cd", "uses": f"{ACTION}@{ACTION_REF}", "with": inputs}
    if scenario.continue_on_error:
        action["continue-on-error"] = True
    env = {
        "JOB": scenario.job,
        "RESULT": "${{ steps.cd.outputs.result }}",
        "PREVIOUS": "${{ steps.cd.outputs.previous-image }}",
        "DEPLOYED": "${{ steps.cd.outputs.deployed-image }}",
        "OUTCOME": "${{ steps.cd.outcome }}",
    }
    return {
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 5,
        "steps": [
            {
                "name": "Put the kubectl simulator on PATH",
                "run": 'echo "$SIM_BIN" >> "$GITHUB_PATH"',
            },
            action,
            {"name": "Record the outputs", "if": "always()", "env": env, "run": RECORD},
        ],
    }


@pytest.fixture(scope="module")
def act_run(
    lab: Lab, action_checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ActRun, Path]:
    def prepare(state: State) -> None:
        for scenario in SCENARIOS:
            state["deployments"][f"{scenario.job}/api"] = deployment()
            if scenario.setup:
                scenario.setup(state)

    lab.update(prepare)
    out_dir = tmp_path_factory.mktemp("act-out")
    workflow = {
        "name": "scenarios",
        "on": "push",
        "permissions": {},
        "env": {"SIM_BIN": str(lab.bin_dir), "OUT_DIR": str(out_dir)},
        "jobs": {scenario.job: _job(scenario, lab) for scenario in SCENARIOS},
    }
    repo = tmp_path_factory.mktemp("repo")
    # JSON is YAML: no quoting rules to get wrong.
    init_repo(repo, {".github/workflows/scenarios.yml": json.dumps(workflow, indent=1)})
    event = {"ref": "refs/heads/main", "head_commit": {"timestamp": COMMIT_TIME}}
    return run_act(repo, action_checkout, event=event), out_dir


def _recorded(out_dir: Path, job: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((out_dir / f"{job}.json").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.job)
def test_outputs_reach_later_steps(act_run: tuple[ActRun, Path], scenario: Scenario) -> None:
    run, out_dir = act_run
    recorded = _recorded(out_dir, scenario.job)
    assert recorded["RESULT"] == scenario.result, run.log
    assert recorded["OUTCOME"] == ("success" if scenario.job in SUCCEEDS else "failure")
    if scenario.job != "malformed":
        assert recorded["PREVIOUS"] == LIVE_BEFORE.get(scenario.job, GOOD)
    live = {
        "deployed": scenario.inputs.get("image"),
        "rolled-back": recorded["PREVIOUS"],
        "skipped": recorded["PREVIOUS"],
    }
    if scenario.job == "rollback-mode":
        live["rolled-back"] = GOOD
    expected = scenario.live if scenario.live is not None else live.get(scenario.result, "")
    assert recorded["DEPLOYED"] == expected


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.job)
def test_summary_is_written(act_run: tuple[ActRun, Path], scenario: Scenario) -> None:
    run, _ = act_run
    summary = run.summary(scenario.job)
    assert summary.startswith("## "), run.log
    assert f": {scenario.result}" in summary.splitlines()[0]
    assert "### Phases" in summary


def test_the_job_fails_when_it_rolled_back(act_run: tuple[ActRun, Path]) -> None:
    run, _ = act_run
    assert run.job_failed("job-fails"), run.log
    assert run.code != 0
    for job in SUCCEEDS:
        assert run.job_succeeded(job)


def test_lead_time_comes_from_the_push_event(act_run: tuple[ActRun, Path]) -> None:
    run, _ = act_run
    summary = run.summary("healthy")
    assert "(commit at 2026-01-01T00:00:00+00:00)" in summary
    assert "| Environment | Staging |" in summary


def test_annotations_and_groups_in_the_log(act_run: tuple[ActRun, Path]) -> None:
    run, _ = act_run
    assert "ROLLBACK FAILED" in run.log
    assert "kubectl rollout undo deployment/api --to-revision=1 --namespace=undo-fails" in run.log
    assert "::group::" in run.log or "Read the current image" in run.log


def test_kubeconfig_never_reaches_the_log(act_run: tuple[ActRun, Path], lab: Lab) -> None:
    run, _ = act_run
    assert TOKEN not in run.log
    assert run.summary("kubeconfig")
    calls = [call for call in lab.state()["calls"] if "--namespace=kubeconfig" in call["argv"]]
    assert calls
    assert {call["kubeconfig_mode"] for call in calls} == {"0o600"}
    paths = {
        arg.split("=", 1)[1]
        for call in calls
        for arg in call["argv"]
        if arg.startswith("--kubeconfig=")
    }
    assert len(paths) == 1
    assert not Path(paths.pop()).exists()


def test_malformed_input_makes_no_kubectl_call(act_run: tuple[ActRun, Path], lab: Lab) -> None:
    run, _ = act_run
    assert not [call for call in lab.state()["calls"] if "--namespace=malformed" in call["argv"]]
    assert "smoke-retries: 'lots' is not a whole number" in run.log


def test_only_if_live_leaves_a_newer_deploy_alone(act_run: tuple[ActRun, Path], lab: Lab) -> None:
    run, _ = act_run
    calls = [
        call["argv"] for call in lab.state()["calls"] if "--namespace=only-if-live" in call["argv"]
    ]
    # Read under the deploy lock, which is then freed: nothing set.
    assert [argv[0] for argv in calls] == ["get", "annotate", "get", "get", "annotate"]
    assert lab.state()["deployments"]["only-if-live/api"]["annotations"] == {}
    assert lab.state()["deployments"]["only-if-live/api"]["containers"]["api"] == image("v3")
    assert f"now runs {image('v3')}, which replaced {image('v2')}, so it is left as is" in run.log
    assert "Nothing was changed." in run.summary("only-if-live")


def test_a_failed_preflight_changes_nothing(act_run: tuple[ActRun, Path], lab: Lab) -> None:
    run, _ = act_run
    calls = [call["argv"] for call in lab.state()["calls"] if "--namespace=paused" in call["argv"]]
    assert [argv[0] for argv in calls] == ["get", "annotate", "get", "get", "annotate"]
    assert lab.state()["deployments"]["paused/api"]["annotations"] == {}
    assert "Preflight failed" in run.log
    assert "kubectl rollout resume deployment/api --namespace=paused" in run.summary("paused")


def test_a_set_image_error_is_looked_at(act_run: tuple[ActRun, Path], lab: Lab) -> None:
    run, _ = act_run
    state = lab.state()
    assert state["deployments"]["set-image-times-out/api"]["containers"]["api"] == GOOD
    assert f"but {image('v2')} went live: rolling back" in run.log


def test_verify_only_looks(act_run: tuple[ActRun, Path], lab: Lab) -> None:
    run, _ = act_run
    calls = [call["argv"] for call in lab.state()["calls"] if "--namespace=verify" in call["argv"]]
    assert [argv[0] for argv in calls] == ["get"]
    assert run.summary("verify").startswith("## ✅ cdgen verify: verify: verified")


def test_a_held_lock_stops_the_action_with_nothing_changed(
    act_run: tuple[ActRun, Path], lab: Lab
) -> None:
    run, _ = act_run
    calls = [call["argv"] for call in lab.state()["calls"] if "--namespace=locked" in call["argv"]]
    assert [argv[0] for argv in calls] == ["get"]  # lock-wait reached the engine: 0s
    assert lab.state()["deployments"]["locked/api"]["annotations"] == {LOCK: HELD}
    assert "free the lock by hand: kubectl annotate deployment/api" in run.summary("locked")
