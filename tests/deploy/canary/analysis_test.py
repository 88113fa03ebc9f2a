"""The analysis against a real Prometheus: a healthy canary promotes; an error spike, a
latency breach or no data (with on-no-data: fail) aborts; Prometheus down or erroring never
promotes. Every abort leaves the stable Deployment as it was and no canary behind."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.metrics_exporter import Traffic
from support.prometheus_server import Prometheus
from support.sandbox import GOOD, image

from ..conftest import NAMESPACE, Run, Sandbox
from .conftest import CanaryDeploy, Shape, add_stable, analysis, healthy, readable

NEW = image("v2")


def canary_of(name: str, sandbox: Sandbox) -> dict[str, Any] | None:
    found: dict[str, Any] | None = sandbox.state()["deployments"].get(f"{NAMESPACE}/{name}-canary")
    return found


def assert_aborted(result: Run, sandbox: Sandbox, name: str) -> None:
    """Rolled back: the stable Deployment untouched, no canary left."""
    assert result.code == 1, result.log
    assert result.outputs["result"] == "rolled-back", result.log
    assert result.outputs["deployed-image"] == GOOD
    stable = sandbox.state()["deployments"][f"{NAMESPACE}/{name}"]
    assert stable["containers"] == {name: GOOD} and stable["revision"] == 1
    assert not [argv for argv in sandbox.calls() if argv[:2] == ["set", "image"]]
    assert canary_of(name, sandbox) is None
    deletes = [argv for argv in sandbox.calls() if argv[0] == "delete"]
    assert deletes and deletes[-1][1] == f"deployment/{name}-canary"


def test_a_healthy_canary_promotes(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "healthy")
    serve(healthy)
    env = {"CDGEN_ANALYSIS": analysis(prometheus.url), "CDGEN_CANARY_PAUSE": "3s"}
    result = canary_deploy("healthy", "--image", NEW, env=env)
    assert result.code == 0, result.log
    assert result.outputs["result"] == "deployed"
    stable = sandbox.state()["deployments"][f"{NAMESPACE}/healthy"]
    assert stable["containers"] == {"healthy": NEW}
    assert canary_of("healthy", sandbox) is None
    verbs = [argv[0] if argv[0] != "rollout" else " ".join(argv[:2]) for argv in sandbox.calls()]
    # the canary up and ready, then promoted, removed, and the deploy lock freed
    assert verbs[verbs.index("apply") :] == [
        "apply",
        "rollout status",
        "set",
        "rollout status",
        "delete",
        "get",
        "annotate",
    ]
    checks = [line for line in result.log.splitlines() if line.startswith("check ")]
    assert len(checks) == 3, result.log
    assert all(line.endswith(": pass") for line in checks)
    assert re.search(r"error-rate 0 \(max 0\.01\), p95-latency 0\.04\d+ \(max 0\.5\)", checks[0])
    summary = result.summary
    assert "### Canary" in summary and "Decision: **promoted**" in summary
    assert "| 1 | 5% | 5.0% | 1 beside 19 | 3 | ✅ passed |" in summary
    assert "| Check | At | error-rate (max 0.01) | p95-latency (max 0.5) | Verdict |" in summary


def test_an_error_spike_at_step_2_aborts_within_one_interval(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "spiky")

    def spike_at_step_2(name: str, record: dict[str, Any]) -> Traffic:
        step_2 = name == "spiky-canary" and record["replicas"] == 7  # 25% beside 19
        return Traffic(error_ratio=0.5 if step_2 else 0.0)

    serve(spike_at_step_2)
    env = {
        "CDGEN_ANALYSIS": analysis(prometheus.url),
        "CDGEN_CANARY_STEPS": "5,25",
        "CDGEN_CANARY_PAUSE": "3s",
    }
    result = canary_deploy("spiky", "--image", NEW, env=env)
    assert_aborted(result, sandbox, "spiky")
    scales = [argv for argv in sandbox.calls() if argv[0] == "scale"]
    assert [argv[2] for argv in scales] == ["--replicas=7"]  # step 2 was reached
    step_2 = result.log.split("::group::Canary step 2 (25%25)")[1]
    checks = [line for line in step_2.splitlines() if line.startswith("check ")]
    assert len(checks) == 1, step_2  # the first check of step 2, one interval in
    seconds = float(checks[0].split(" at ")[1].split("s:")[0])
    assert seconds <= 1.5
    reason = re.search(
        r"canary step 2 \(25%\): error-rate was (\S+) \(max 0\.01\) at check 1", readable(result)
    )
    assert reason is not None, result.log
    assert float(reason.group(1)) > 0.01
    summary = result.summary
    assert (
        f"| Reason | canary step 2 (25%): error-rate was {reason.group(1)} (max 0.01) at check 1 |"
        in summary
    )
    assert "| 1 | 5% | 5.0% | 1 beside 19 | 3 | ✅ passed |" in summary
    assert "| 2 | 25% | 26.9% | 7 beside 19 | 1 | ❌ aborted: error-rate was" in summary
    assert f"| 1 | 1.0s | {reason.group(1)} ❌ | 0.0475 | ❌ fail: error-rate was" in summary


def test_a_latency_breach_aborts(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "slow")
    serve(lambda name, _record: Traffic(latency=0.8 if name == "slow-canary" else 0.04))
    env = {"CDGEN_ANALYSIS": analysis(prometheus.url), "CDGEN_CANARY_PAUSE": "3s"}
    result = canary_deploy("slow", "--image", NEW, env=env)
    assert_aborted(result, sandbox, "slow")
    found = re.search(
        r"canary step 1 \(5%\): p95-latency was (\S+) \(max 0\.5\) at check 1", readable(result)
    )
    assert found is not None, result.log
    assert 0.5 < float(found.group(1)) <= 1.0  # in the histogram's (0.5, 1] bucket


@pytest.mark.parametrize("on_no_data", ["fail", "pass"])
def test_no_data(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
    on_no_data: str,
) -> None:
    name = f"quiet-{on_no_data}"
    add_stable(sandbox, name)
    serve(
        lambda series, _record: None if series.endswith("-canary") else Traffic()
    )  # no canary series
    env = {
        "CDGEN_ANALYSIS": analysis(prometheus.url, **{"on-no-data": on_no_data}),
        "CDGEN_CANARY_PAUSE": "2s",
    }
    result = canary_deploy(name, "--image", NEW, env=env)
    if on_no_data == "fail":
        assert_aborted(result, sandbox, name)
        assert (
            "canary step 1 (5%): error-rate had no data (on-no-data: fail) at check 1"
            in readable(result)
        )
    else:
        assert result.outputs["result"] == "deployed", result.log
        assert "error-rate no data (max 0.01), p95-latency no data (max 0.5): pass" in result.log
        assert "| 1 | 1.0s | no data | no data | ✅ pass |" in result.summary


def test_prometheus_down_never_promotes(
    canary_deploy: CanaryDeploy, sandbox: Sandbox, closed_port: int
) -> None:
    add_stable(sandbox, "dark")
    env = {
        "CDGEN_ANALYSIS": analysis(f"http://127.0.0.1:{closed_port}", **{"on-no-data": "pass"}),
        "CDGEN_CANARY_PAUSE": "10s",
    }
    started = time.monotonic()
    result = canary_deploy("dark", "--image", NEW, env=env)
    assert time.monotonic() - started < 8  # three failed checks in a row, not the whole pause
    assert_aborted(result, sandbox, "dark")
    assert "Prometheus gave no answer (3 check(s) in a row)" in result.log
    assert "error-rate: the query failed: connection refused" in result.log
    assert "⚠️ no answer" in result.summary


def test_prometheus_erroring_never_promotes(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    add_stable(sandbox, "garbled")
    serve(healthy)
    metrics = [{"name": "broken", "query": "sum(rate(http_requests_total[1m]", "max": 1}]
    env = {"CDGEN_ANALYSIS": analysis(prometheus.url, metrics=metrics), "CDGEN_CANARY_PAUSE": "10s"}
    result = canary_deploy("garbled", "--image", NEW, env=env)
    assert_aborted(result, sandbox, "garbled")
    assert "broken: the query failed: HTTP 400 bad_data: invalid parameter" in result.log


def test_the_last_check_of_a_step_must_answer(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    """Errors fewer than three in a row still fail a step when they come last."""
    add_stable(sandbox, "flicker")
    serve(healthy)
    metrics = [{"name": "broken", "query": "sum(rate(x[1m]", "max": 1}]
    env = {"CDGEN_ANALYSIS": analysis(prometheus.url, metrics=metrics), "CDGEN_CANARY_PAUSE": "1s"}
    result = canary_deploy("flicker", "--image", NEW, env=env)
    assert_aborted(result, sandbox, "flicker")
    assert "Prometheus gave no answer (1 check(s) in a row)" in result.log
