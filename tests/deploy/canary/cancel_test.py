"""Cancelling a canary, as a runner does it (a real signal to the engine's process): at any
point the stable Deployment is left as it was and no canary stays behind, with kubectl's
short limits, within the few seconds a runner gives."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.prometheus_server import Prometheus
from support.sandbox import GOOD, image

from ..conftest import NAMESPACE, ROOT, Sandbox, parse_outputs
from .conftest import add_stable, analysis
from .gateway_test import gateway_lab

NEW = image("v2")


@dataclass
class Cancelled:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    seconds: float  # from the signal to the engine's exit


def cancel(tmp_path: Path, env: dict[str, str], when: str, signum: signal.Signals) -> Cancelled:
    """Run the engine as the action does; send ``signum`` once a log line starts with ``when``."""
    output_file, summary_file = tmp_path / "out", tmp_path / "summary"
    environ = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "generator"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "CDGEN_IMAGE": NEW,
        "CDGEN_NAMESPACE": NAMESPACE,
        "CDGEN_ROLLOUT_TIMEOUT": "60s",
        "CDGEN_STRATEGY": "canary",
        **env,
    }
    process = subprocess.Popen(
        ["/usr/bin/python3", "-S", "-B", "-m", "cdgen.deploy"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    sent = 0.0
    with process:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            if not sent and line.startswith(when):
                time.sleep(0.3)  # let kubectl or the check get going
                process.send_signal(signum)
                sent = time.monotonic()
        code = process.wait(timeout=30)
    assert sent, "".join(log)
    return Cancelled(
        code,
        "".join(log),
        parse_outputs(output_file.read_text(encoding="utf-8")),
        summary_file.read_text(encoding="utf-8"),
        time.monotonic() - sent,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_cancelled_during_the_analysis(
    sandbox: Sandbox, tmp_path: Path, prometheus: Prometheus, signum: signal.Signals
) -> None:
    name = f"cancel-{signum.name.lower()}"
    add_stable(sandbox, name)
    env = {
        "CDGEN_DEPLOYMENT": name,
        "CDGEN_ANALYSIS": analysis(prometheus.url, **{"on-no-data": "pass"}),
        "CDGEN_CANARY_PAUSE": "60s",
    }
    done = cancel(tmp_path, env, "check 1 at", signum)
    assert done.code == 128 + signum
    assert done.seconds < 5
    assert done.outputs["result"] == "failed"
    assert done.outputs["deployed-image"] == GOOD
    state = sandbox.state()["deployments"]
    assert f"{NAMESPACE}/{name}-canary" not in state
    assert state[f"{NAMESPACE}/{name}"]["containers"] == {name: GOOD}
    assert not [argv for argv in sandbox.calls() if argv[:2] == ["set", "image"]]
    (delete,) = [argv for argv in sandbox.calls() if argv[0] == "delete"]
    assert "--request-timeout=4s" in delete  # the urgent limit
    assert (
        f"> **Cancelled by {signum.name}.** The canary was removed; the stable Deployment was not changed."
        in done.summary
    )
    assert "| Remove the canary (cancelled) | " in done.summary


def test_cancelled_during_the_promotion(
    sandbox: Sandbox, tmp_path: Path, prometheus: Prometheus
) -> None:
    add_stable(sandbox, "cancel-promo")
    sandbox.update(stuck=[f"{NAMESPACE}/cancel-promo"])  # the stable rollout never ends
    env = {
        "CDGEN_DEPLOYMENT": "cancel-promo",
        "CDGEN_ANALYSIS": analysis(prometheus.url, **{"on-no-data": "pass"}),
        "CDGEN_CANARY_PAUSE": "1s",
    }
    done = cancel(
        tmp_path, env, "$ kubectl rollout status deployment/cancel-promo ", signal.SIGTERM
    )
    assert done.code == 143, done.log
    assert done.seconds < 8
    state = sandbox.state()["deployments"]
    assert f"{NAMESPACE}/cancel-promo-canary" not in state
    assert state[f"{NAMESPACE}/cancel-promo"]["containers"] == {"cancel-promo": GOOD}
    verbs = [argv[:2] for argv in sandbox.calls()]
    undo = verbs.index(["rollout", "undo"])
    assert verbs[undo + 1][0] == "delete"  # the stable one first, then the canary
    assert "its rollout was not waited for. The canary was removed." in done.summary
    assert "Decision: **cancelled**" in done.summary


def test_cancelled_gateway_canary_restores_the_weights(
    sandbox: Sandbox, tmp_path: Path, prometheus: Prometheus
) -> None:
    original = gateway_lab(sandbox, "cancel-gw")
    env = {
        "CDGEN_DEPLOYMENT": "cancel-gw",
        "CDGEN_ANALYSIS": analysis(prometheus.url, **{"on-no-data": "pass"}),
        "CDGEN_CANARY_PAUSE": "60s",
        "CDGEN_CANARY_TRAFFIC": "gateway",
        "CDGEN_CANARY_ROUTE": "cancel-gw-route",
    }
    done = cancel(tmp_path, env, "check 1 at", signal.SIGTERM)
    assert done.code == 143, done.log
    state = sandbox.state()
    assert state["httproutes"][f"{NAMESPACE}/cancel-gw-route"]["spec"] == original["spec"]
    assert f"{NAMESPACE}/cancel-gw-canary" not in state["services"]
    assert f"{NAMESPACE}/cancel-gw-canary" not in state["deployments"]
