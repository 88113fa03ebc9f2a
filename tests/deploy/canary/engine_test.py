"""The canary keeps the engine's promises: it refuses before changing anything when a step
cannot get its share; it holds the deploy lock throughout; its deployment record is opened
before the first change and closed with the truth; and every way a canary can go wrong
(never ready, a failed promotion, kubectl errors, a crash) ends with the stable Deployment
as it was and no canary behind, or in the loud degraded report with the commands to run."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.metrics_exporter import Traffic
from support.prometheus_server import Prometheus
from support.sandbox import GOOD, deployment, image

from cdgen.deploy import analysis as analysis_module
from cdgen.deploy.lock import ANNOTATION, parse_holding

from ..conftest import NAMESPACE, Sandbox
from .analysis_test import assert_aborted, canary_of
from .conftest import CanaryDeploy, Shape, add_stable, analysis, healthy, readable
from .gateway_test import gateway_lab

NEW = image("v2")
TOKEN = "ghs_canary_engine"


def canary_env(prometheus: Prometheus, **changes: str) -> dict[str, str]:
    return {"CDGEN_ANALYSIS": analysis(prometheus.url), "CDGEN_CANARY_PAUSE": "1s", **changes}


def test_a_step_without_its_share_is_refused_before_anything_changes(
    canary_deploy: CanaryDeploy, sandbox: Sandbox
) -> None:
    add_stable(sandbox, "small", replicas=2)
    env = {"CDGEN_ANALYSIS": analysis("http://127.0.0.1:9")}
    result = canary_deploy("small", "--image", NEW, env=env)
    assert result.code == 1
    assert result.outputs["result"] == "failed"
    said = readable(result)
    assert (
        "canary step 5%: 1 canary pod(s) beside 2 stable one(s) take 33.3% of the traffic, "
        "more than twice 5%; the step needs at least 9 stable replicas, or canary traffic "
        "gateway (exact HTTPRoute weights); nothing was changed"
    ) in said
    verbs = {argv[0] for argv in sandbox.calls()}
    assert verbs == {"get", "annotate"}  # read, and the lock taken and freed
    assert ANNOTATION not in sandbox.state()["deployments"][f"{NAMESPACE}/small"].get(
        "annotations", {}
    )


def test_a_canary_never_ready_is_removed(
    canary_deploy: CanaryDeploy, sandbox: Sandbox, prometheus: Prometheus
) -> None:
    add_stable(sandbox, "stuck")
    result = canary_deploy("stuck", "--image", image("never-ready"), env=canary_env(prometheus))
    assert_aborted(result, sandbox, "stuck")
    assert "canary step 1 (5%): the canary was not ready within 2s" in readable(result)


def test_a_failed_promotion_undoes_the_stable_one_and_removes_the_canary(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "promo")
    serve(healthy)
    result = canary_deploy("promo", "--image", image("broken"), env=canary_env(prometheus))
    assert result.outputs["result"] == "rolled-back", result.log
    stable = sandbox.state()["deployments"][f"{NAMESPACE}/promo"]
    assert stable["containers"] == {"promo": GOOD}
    verbs = [argv[0] if argv[0] != "rollout" else " ".join(argv[:2]) for argv in sandbox.calls()]
    tail = verbs[verbs.index("set") :]
    assert tail[:5] == ["set", "rollout status", "rollout undo", "rollout status", "delete"]
    assert canary_of("promo", sandbox) is None
    assert "the smoke test failed 1 time(s): HTTP 500" in readable(result)


def test_an_apply_that_fails_still_cleans_up(
    canary_deploy: CanaryDeploy, sandbox: Sandbox, prometheus: Prometheus
) -> None:
    add_stable(sandbox, "refused")
    sandbox.update(fail_apply=True)
    result = canary_deploy("refused", "--image", NEW, env=canary_env(prometheus))
    assert_aborted(result, sandbox, "refused")
    assert "kubectl could not bring the canary up (exit 1)" in readable(result)


def test_a_canary_that_cannot_be_deleted_is_reported_loudly(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "sticky")
    serve(lambda name, _r: Traffic(error_ratio=0.5 if name == "sticky-canary" else 0.0))
    sandbox.update(fail_delete=["sticky-canary"])
    result = canary_deploy("sticky", "--image", NEW, env=canary_env(prometheus))
    assert result.code == 1
    assert result.outputs["result"] == "failed"
    assert result.outputs["deployed-image"] == ""
    command = f"kubectl delete deployment/sticky-canary --ignore-not-found --namespace={NAMESPACE}"
    said = readable(result)
    assert "CANARY NOT REMOVED: environment may be degraded" in said
    assert command in said
    assert "The canary could not be removed: the canary was not deleted (kubectl exit 1)" in (
        result.summary
    )
    assert command in result.summary
    assert sandbox.state()["deployments"][f"{NAMESPACE}/sticky"]["containers"] == {"sticky": GOOD}


def test_a_route_changed_by_someone_else_is_not_overwritten(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    """Between two steps someone edits the route: the next patch is refused (its test no
    longer holds), and so is the restore, which is then left to a person, loudly."""
    gateway_lab(sandbox, "gwx")
    edited: list[bool] = []

    def edit_once(name: str, record: dict[str, Any]) -> Traffic:
        state = sandbox.state()
        rules = state["httproutes"][f"{NAMESPACE}/gwx-route"]["spec"]["rules"]
        if name == "gwx-canary" and not edited and len(rules[0]["backendRefs"]) == 2:
            rules[0]["backendRefs"][0]["weight"] = 90  # once step 1 has reweighted it
            sandbox.save(state)
            edited.append(True)
        return Traffic()

    serve(edit_once)
    env = canary_env(
        prometheus,
        CDGEN_CANARY_TRAFFIC="gateway",
        CDGEN_CANARY_ROUTE="gwx-route",
        CDGEN_CANARY_STEPS="5,25",
        CDGEN_CANARY_PAUSE="2s",
    )
    result = canary_deploy("gwx", "--image", NEW, env=env)
    assert result.outputs["result"] == "failed", result.log
    said = readable(result)
    changed = (
        "rule 0 of HTTPRoute gwx-route is not as this run left it (it sends to: gwx 90, "
        "gwx-canary 5); someone else changed it"
    )
    assert f"canary step 2 (25%): {changed}" in said
    assert f"the weights of HTTPRoute gwx-route were not restored ({changed})" in said
    assert "kubectl patch httproutes.gateway.networking.k8s.io/gwx-route --type=json" in said
    patches = [argv for argv in sandbox.calls() if argv[0] == "patch"]
    assert len(patches) == 1  # step 1's; nothing was written over the edit
    state = sandbox.state()
    backends = state["httproutes"][f"{NAMESPACE}/gwx-route"]["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["weight"]) for b in backends] == [("gwx", 90), ("gwx-canary", 5)]
    # the edit stands; the canary keeps running, as the report says
    assert canary_of("gwx", sandbox) is not None


def test_a_crash_during_the_canary_removes_it(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_stable(sandbox, "crash")
    serve(healthy)

    def broken(self: Any, number: int, seconds: float) -> Any:
        raise RuntimeError("a bug in the analysis")

    monkeypatch.setattr(analysis_module.Watch, "check", broken)
    result = canary_deploy("crash", "--image", NEW, env=canary_env(prometheus))
    assert result.code == 3
    assert result.outputs["result"] == "rolled-back"
    assert "unexpected error during the canary: RuntimeError: a bug in the analysis" in (
        readable(result)
    )
    assert canary_of("crash", sandbox) is None
    assert sandbox.state()["deployments"][f"{NAMESPACE}/crash"]["containers"] == {"crash": GOOD}


@pytest.fixture
def github() -> Iterator[tuple[GitHubApi, str]]:
    state = GitHubState()
    state.add_history("acme/api", 2)
    with GitHubApi(state, tokens=[TOKEN]) as server:
        yield server, list(state.repos["acme/api"].commits)[-1]


def test_the_lock_is_held_throughout_and_the_record_tells_the_truth(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
    github: tuple[GitHubApi, str],
) -> None:
    add_stable(sandbox, "locked")
    during: list[dict[str, Any]] = []

    def watch(name: str, record: dict[str, Any]) -> Traffic:
        if name == "locked-canary":
            during.append(copy.deepcopy(sandbox.state()["deployments"][f"{NAMESPACE}/locked"]))
        return Traffic(error_ratio=0.5 if name == "locked-canary" else 0.0)

    serve(watch)
    api, commit = github
    env = canary_env(
        prometheus,
        CDGEN_ANALYSIS=analysis(prometheus.url, interval="5m"),  # a check a second, scaled
        CDGEN_GITHUB_TOKEN=TOKEN,
        CDGEN_COMMIT=commit,
        GITHUB_API_URL=api.url,
        GITHUB_REPOSITORY="acme/api",
        CDGEN_CANARY_PAUSE="10m",
        CDGEN_LOCK_WAIT="0s",
    )
    result = canary_deploy("locked", "--image", NEW, env=env, time_scale=1 / 300)
    assert result.outputs["result"] == "rolled-back", result.log
    holding = parse_holding(during[0]["annotations"][ANNOTATION])
    assert holding is not None
    left = (holding.expires - datetime.now(timezone.utc)).total_seconds()  # noqa: UP017
    assert left > 10 * 60  # the lock outlasts the canary's real pause, not the test's
    assert ANNOTATION not in sandbox.state()["deployments"][f"{NAMESPACE}/locked"].get(
        "annotations", {}
    )
    endpoint = "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
    statuses = [call.body for call in api.calls(endpoint)]
    assert [s["state"] for s in statuses] == ["in_progress", "failure"]
    assert "did not stay live: canary step 1 (5%): error-rate was" in statuses[-1]["description"]
    phases = result.summary.split("### Phases")[1]
    assert phases.index("Open the deployment record") < phases.index("Canary step 1 (5%)")


def test_a_deployment_named_like_the_canary_that_is_not_one_is_left_alone(
    canary_deploy: CanaryDeploy, sandbox: Sandbox, prometheus: Prometheus
) -> None:
    add_stable(sandbox, "named")
    add_stable(sandbox, "named-canary", replicas=1)  # someone's own Deployment
    result = canary_deploy("named", "--image", NEW, env=canary_env(prometheus))
    assert result.outputs["result"] == "failed"
    assert (
        "canary: deployment/named-canary exists and is not the canary of deployment/named"
        in readable(result)
    )
    assert {argv[0] for argv in sandbox.calls()} == {"get", "annotate"}
    assert canary_of("named", sandbox) is not None


def test_a_canary_left_by_a_run_that_died_is_reused_and_removed(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "left")
    leftover = deployment(
        image("v0"), "left", replicas=3, annotations={"cdgen.dev/canary-of": "left"}
    )
    leftover.update(labels={"app": "left", "track": "canary", "cdgen.dev/canary-of": "left-canary"})
    leftover["selector"] = {"matchLabels": {"cdgen.dev/canary-of": "left-canary"}}
    sandbox.update(
        deployments={**sandbox.state()["deployments"], f"{NAMESPACE}/left-canary": leftover}
    )
    serve(healthy)
    result = canary_deploy("left", "--image", NEW, env=canary_env(prometheus))
    assert result.outputs["result"] == "deployed", result.log
    assert "deployment.apps/left-canary configured" in result.log
    assert canary_of("left", sandbox) is None


def test_an_unwritable_temporary_directory_aborts_cleanly(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    add_stable(sandbox, "tmpless")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    result = canary_deploy("tmpless", "--image", NEW, env=canary_env(prometheus))
    assert result.code == 1  # an abort, not a crash
    assert_aborted(result, sandbox, "tmpless")
    assert "cannot write the manifest in" in result.log
