"""The engine end to end against the kubectl simulator and live-image HTTP servers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from support.sandbox import GOOD, deployment, image
from support.smoke_server import SmokeServer

from cdgen.deploy.lock import ANNOTATION

from .conftest import NAMESPACE, RUN_ENV, RUN_URL, Deploy, Sandbox, workload

UNDO_TO_1 = ["rollout", "undo", "deployment/api", "--to-revision=1", "--request-timeout=60s"]
GET = [
    "get",
    "deployment/api",
    "--output=json",
    "--request-timeout=60s",
    f"--namespace={NAMESPACE}",
]
# What the deploy lock adds around every deploy: get + annotate before, get + annotate after.
LOCKED = ["get", "annotate", "get"]
UNLOCKED = ["get", "annotate"]


def annotate(change: str, resource_version: int) -> list[str]:
    return [
        "annotate",
        "deployment/api",
        change,
        "--overwrite",
        f"--resource-version={resource_version}",
        "--request-timeout=60s",
        f"--namespace={NAMESPACE}",
    ]


def test_healthy_deploy(deploy: Deploy, sandbox: Sandbox) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    result = deploy("--image", image("v2"), "--environment", "Staging", env=RUN_ENV)
    ended = datetime.now(UTC)
    assert result.code == 0, result.log
    assert result.outputs == {
        "result": "deployed",
        "previous-image": GOOD,
        "deployed-image": image("v2"),
        "deployment-id": "",
    }
    assert sandbox.image() == image("v2")
    calls = sandbox.calls()
    # Held for the run's worst case: 2 x rollout-timeout, every smoke attempt, 120s.
    holder, _, rest = calls[1][2].removeprefix(f"{ANNOTATION}=").rpartition("; expires ")
    expires, _, lease = rest.partition("; for ")
    assert holder == f"{RUN_URL} (deploy {image('v2')})"
    assert lease == "123s"
    until = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert started + timedelta(seconds=123) <= until <= ended + timedelta(seconds=123)
    assert calls == [
        GET,
        # Taken by compare-and-set against the resourceVersion just read.
        annotate(f"{ANNOTATION}={holder}; expires {expires}; for {lease}", 1),
        GET,
        [
            "set",
            "image",
            "deployment/api",
            f"api={image('v2')}",
            "--request-timeout=60s",
            f"--namespace={NAMESPACE}",
        ],
        ["rollout", "status", "deployment/api", "--timeout=1s", f"--namespace={NAMESPACE}"],
        GET,
        # Freed only if still this run's: the object is as this run left it (set image: 3).
        annotate(f"{ANNOTATION}-", 3),
    ]
    assert sandbox.lock() is None
    assert "::notice title=Deployed::" in result.log
    for text in (
        "Staging",
        GOOD,
        image("v2"),
        "Rollout",
        "Smoke test",
        "HTTP 200",
        "**deployed**",
        "Lead time",
    ):
        assert text in result.summary


def test_rollout_timeout_undoes_to_the_recorded_revision(deploy: Deploy, sandbox: Sandbox) -> None:
    started = time.monotonic()
    result = deploy("--image", image("never-ready"))
    assert time.monotonic() - started < 10
    assert result.code == 1
    assert result.outputs == {
        "result": "rolled-back",
        "previous-image": GOOD,
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert sandbox.image() == GOOD
    assert sandbox.calls()[5][:5] == UNDO_TO_1
    assert sandbox.verbs() == [
        *LOCKED,
        "set image",
        "rollout status",
        "rollout undo",
        "rollout status",
        *UNLOCKED,
    ]
    assert sandbox.lock() is None
    assert "::error title=Rollout failed::the rollout did not complete within 1s" in result.log
    assert "Smoke test" not in result.summary.split("### Smoke test")[0]


def test_smoke_5xx_rolls_back(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("broken"), "--smoke-retries", "2")
    assert result.code == 1
    assert result.outputs["result"] == "rolled-back"
    assert sandbox.image() == GOOD
    assert result.log.count(": fail: HTTP 500") == 3
    assert "| 3 | ❌ HTTP 500 |" in result.summary


def test_connection_refused_rolls_back(deploy: Deploy, sandbox: Sandbox, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/health"
    result = deploy("--image", image("v2"), "--smoke-url", url, "--smoke-retries", "1")
    assert result.code == 1
    assert result.outputs["result"] == "rolled-back"
    assert "connection refused" in result.summary
    assert sandbox.image() == GOOD


def test_slow_answer_past_the_request_timeout_rolls_back(deploy: Deploy, sandbox: Sandbox) -> None:
    started = time.monotonic()
    result = deploy("--image", image("slow"), "--smoke-timeout", "1s")
    assert time.monotonic() - started < 3  # the server waits 3s; the engine gives up after 1s
    assert result.code == 1
    assert "no answer within 1s" in result.log
    assert sandbox.image() == GOOD


def test_flaky_then_healthy_within_the_retries(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("flaky"), "--smoke-retries", "3", "--smoke-interval", "1s")
    assert result.code == 0, result.log
    assert result.outputs["result"] == "deployed"
    assert [line for line in result.log.splitlines() if line.startswith("attempt")][-1].startswith(
        "attempt 3: pass"
    )
    assert sandbox.image() == image("flaky")


def test_flaky_beyond_the_retries_rolls_back(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("flaky"), "--smoke-retries", "1")
    assert result.code == 1
    assert result.outputs["result"] == "rolled-back"


def test_expected_version_in_body_or_header(deploy: Deploy, sandbox: Sandbox) -> None:
    assert deploy("--image", image("v2"), "--expect-version", "v2").code == 0
    result = deploy("--image", image("header-version"), "--expect-version", "header-version")
    assert result.code == 0, result.log
    assert "version header-version" in result.summary


def test_wrong_version_rolls_back(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("wrong-version"), "--expect-version", "abc1234")
    assert result.code == 1
    assert "version abc1234 not shown (X-Version: 0000000)" in result.log
    assert result.outputs["result"] == "rolled-back"
    assert sandbox.image() == GOOD


def test_failed_undo_says_the_environment_may_be_degraded(deploy: Deploy, sandbox: Sandbox) -> None:
    sandbox.update(fail_undo=True)
    result = deploy("--image", image("broken"), "--environment", "staging")
    assert result.code == 1
    assert result.outputs["result"] == "failed"
    assert result.outputs["deployed-image"] == ""
    assert "::error title=ROLLBACK FAILED%3A environment may be degraded::" in result.log
    manual = f"kubectl rollout undo deployment/api --to-revision=1 --namespace={NAMESPACE}"
    assert manual in result.log
    assert manual in result.summary
    assert "[!CAUTION]" in result.summary
    assert "may be degraded" in result.summary


def test_undo_whose_rollout_never_completes_is_degraded(deploy: Deploy, sandbox: Sandbox) -> None:
    state = sandbox.state()
    state["never_ready"].append(GOOD)
    sandbox.update(never_ready=state["never_ready"])
    result = deploy("--image", image("never-ready"))
    assert result.code == 1
    assert result.outputs["result"] == "failed"
    assert "may be degraded" in result.log


def test_no_smoke_url_deploys_with_a_notice(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("broken"), env={"CDGEN_SMOKE_URL": ""})
    assert result.code == 0
    assert "::notice title=No smoke test::" in result.log
    assert "No smoke test" in result.summary


def test_missing_deployment_changes_nothing(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("v2"), "--deployment", "nope")
    assert result.code == 1
    assert result.outputs == {
        "result": "failed",
        "previous-image": "",
        "deployed-image": "",
        "deployment-id": "",
    }
    assert 'deployments.apps "nope" not found' in result.log
    assert sandbox.mutating_calls() == []


def test_missing_container_changes_nothing(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("v2"), "--container", "web")
    assert result.code == 1
    assert "has no container 'web' (it has: api)" in result.log
    assert sandbox.mutating_calls() == []


def test_rollback_mode_redeploys_an_earlier_image(deploy: Deploy, sandbox: Sandbox) -> None:
    assert deploy("--image", image("v2")).code == 0
    result = deploy("--mode", "rollback", "--image", GOOD)
    assert result.code == 0, result.log
    assert result.outputs == {
        "result": "rolled-back",
        "previous-image": image("v2"),
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert sandbox.image() == GOOD
    assert "::notice title=Rolled back::" in result.log


def test_rollback_mode_that_fails_verification_fails(deploy: Deploy, sandbox: Sandbox) -> None:
    assert deploy("--image", image("v2")).code == 0
    result = deploy("--mode", "rollback", "--image", image("broken"))
    assert result.code == 1
    assert result.outputs["result"] == "failed"
    assert sandbox.image() == image("v2")


def test_redeploying_the_live_image_is_harmless(deploy: Deploy, sandbox: Sandbox) -> None:
    sandbox.update(http={GOOD: {"status": 503}})
    result = deploy("--image", GOOD)
    assert result.code == 1
    assert "skipped rollback" in result.log
    assert sandbox.image() == GOOD


def test_options_come_from_the_environment(
    deploy: Deploy, sandbox: Sandbox, server: SmokeServer
) -> None:
    env = {"CDGEN_IMAGE": image("v2"), "CDGEN_EXPECT_VERSION": "v2", "CDGEN_ENVIRONMENT": "qa"}
    result = deploy(env=env)
    assert result.code == 0, result.log
    assert "cdgen deploy: qa: deployed" in result.summary


def test_command_line_wins_over_the_environment(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("v2"), env={"CDGEN_IMAGE": image("broken")})
    assert result.code == 0
    assert sandbox.image() == image("v2")


def test_plain_log_format_off_github(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("broken"), github=False)
    assert "::" not in result.log
    assert "== Smoke test" in result.log
    assert "error: Smoke test failed: " in result.log


def test_kubectl_output_cannot_issue_workflow_commands(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--image", image("v2"), "--deployment", "nope")
    lines = result.log.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].removeprefix("::stop-commands::")
    assert len(token) == 32
    assert f"::{token}::" in lines[start + 1 :]


def test_rollback_only_if_live_rolls_back_when_the_image_is_still_live(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    assert deploy("--image", image("v2")).code == 0
    result = deploy("--mode", "rollback", "--image", GOOD, "--only-if-live", image("v2"))
    assert result.code == 0, result.log
    assert result.outputs == {
        "result": "rolled-back",
        "previous-image": image("v2"),
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert sandbox.image() == GOOD
    assert f"| Check live image | 0.0s | ✅ {image('v2')} is live |" in result.summary


def test_rollback_only_if_live_skips_when_a_newer_deploy_replaced_it(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    # Run A deployed v2 and its e2e tests failed; meanwhile run B deployed v3.
    sandbox.update(deployments={f"{NAMESPACE}/api": deployment(image("v3"))})
    before = workload(sandbox.deployment())
    result = deploy("--mode", "rollback", "--image", GOOD, env={"CDGEN_ONLY_IF_LIVE": image("v2")})
    assert result.code == 0, result.log
    assert result.outputs == {
        "result": "skipped",
        "previous-image": image("v3"),
        "deployed-image": image("v3"),
        "deployment-id": "",
    }
    assert sandbox.image() == image("v3")
    assert sandbox.verbs() == [*LOCKED, *UNLOCKED]  # read under the lock, nothing set
    assert sandbox.mutating_calls() == []
    assert workload(sandbox.deployment()) == before
    notice = (
        f"::notice title=Skipped%3A the image is no longer live::The environment {NAMESPACE} "
        f"now runs {image('v3')}, which replaced {image('v2')}, so it is left as is"
    )
    assert notice in result.log
    assert result.summary.startswith(f"## ⏭️ cdgen rollback: {NAMESPACE}: skipped\n")
    assert "> **Nothing was changed.**" in result.summary
    assert "— (nothing new went live)" in result.summary
    assert "Smoke test" not in result.log


def test_only_if_live_compares_references_exactly(deploy: Deploy, sandbox: Sandbox) -> None:
    # The same image by another name (a digest, docker.io/…) still counts as replaced.
    result = deploy("--image", image("v2"), "--only-if-live", f"docker.io/{GOOD}")
    assert result.code == 0, result.log
    assert result.outputs["result"] == "skipped"
    assert sandbox.mutating_calls() == []
    assert sandbox.image() == GOOD
