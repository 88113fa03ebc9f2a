"""Cancellation, as a runner does it: a real signal to the engine's process.

After ``set image`` the engine issues ``rollout undo`` at once, does not wait for its
rollout, and says exactly that: outputs, summary (phases included) and exit status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.sandbox import GOOD, image

from .conftest import NAMESPACE, ROOT, Sandbox, parse_outputs

UNDO = f"kubectl rollout undo deployment/api --to-revision=1 --request-timeout=4s --namespace={NAMESPACE}"


@dataclass
class Cancelled:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    seconds: float


def cancel(
    sandbox: Sandbox,
    tmp_path: Path,
    signals: list[tuple[str, signal.Signals]],
    target: str = image("never-ready"),
) -> Cancelled:
    """Run the engine; send each signal once a log line starts with its prefix."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    output_file, summary_file = tmp_path / "out", tmp_path / "summary"
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "generator"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "RUNNER_TEMP": str(runner_temp),
        "CDGEN_KUBECONFIG": "apiVersion: v1\nkind: Config\n",
        "CDGEN_IMAGE": target,
        "CDGEN_NAMESPACE": NAMESPACE,
        "CDGEN_DEPLOYMENT": "api",
        "CDGEN_ROLLOUT_TIMEOUT": "60s",
    }
    process = subprocess.Popen(
        ["/usr/bin/python3", "-S", "-B", "-m", "cdgen.deploy"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    pending = list(signals)
    sent = time.monotonic()
    with process:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            if pending and line.startswith(pending[0][0]):
                time.sleep(0.3)  # let kubectl get going
                process.send_signal(pending.pop(0)[1])
                sent = time.monotonic()
        code = process.wait(timeout=20)
    assert not pending, "".join(log)
    assert list(runner_temp.iterdir()) == []  # the kubeconfig file is gone
    return Cancelled(
        code,
        "".join(log),
        parse_outputs(output_file.read_text(encoding="utf-8")),
        summary_file.read_text(encoding="utf-8"),
        time.monotonic() - sent,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_cancel_mid_rollout_undoes_at_once_and_says_so(
    sandbox: Sandbox, tmp_path: Path, signum: signal.Signals
) -> None:
    done = cancel(sandbox, tmp_path, [("$ kubectl rollout status", signum)])
    assert done.code == 128 + signum
    assert done.seconds < 5  # the undo's rollout (up to 60s here) is not waited for
    assert f"$ {UNDO}" in done.log
    assert sandbox.image() == GOOD
    # No rollout status after the undo: only the deploy lock's release, urgent too.
    verbs = sandbox.verbs()
    assert verbs[verbs.index("rollout undo") :] == ["rollout undo", "get", "annotate"]
    assert all("--request-timeout=2s" in argv for argv in sandbox.calls()[-2:])
    assert sandbox.lock() is None
    assert done.outputs == {
        "result": "failed",
        "previous-image": GOOD,
        "deployed-image": "",
        "deployment-id": "",
    }
    assert "FAILED" not in done.log
    assert "kubectl rollout undo was issued at once; its rollout was not waited for" in done.log
    status = f"kubectl rollout status deployment/api --namespace={NAMESPACE} --timeout=60s"
    assert status in done.log
    summary = done.summary
    assert f"> **Cancelled by {signum.name}.** kubectl rollout undo was issued at once" in summary
    assert f"| Reason | cancelled by {signum.name} after the image was set |" in summary
    assert "| Live image now | unknown |" in summary
    assert f"| Previous image | `{GOOD}` |" in summary
    assert status in summary
    phases = summary.split("### Phases")[1]
    for row in (
        "| Set image | ",
        f"✅ {image('never-ready')} |",
        "| Rollout | ",
        "❌ interrupted |",
        "| Roll back (cancelled) | ",
        "✅ undo issued |",
    ):
        assert row in phases, phases


def test_second_signal_does_not_cut_the_undo_short(sandbox: Sandbox, tmp_path: Path) -> None:
    # The runner sends SIGINT, then SIGTERM a few seconds later: the undo still completes.
    sandbox.update(delays={"undo": 1.5})
    done = cancel(
        sandbox,
        tmp_path,
        [("$ kubectl rollout status", signal.SIGINT), ("$ kubectl rollout undo", signal.SIGTERM)],
    )
    assert done.code == 128 + signal.SIGINT
    assert sandbox.image() == GOOD
    assert "✅ undo issued |" in done.summary


def test_cancel_before_set_image_changes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.update(delays={"get": 3})
    done = cancel(sandbox, tmp_path, [("$ kubectl get deployment/api", signal.SIGTERM)])
    assert done.code == 128 + signal.SIGTERM
    assert sandbox.mutating_calls() == []
    assert sandbox.lock_calls() == [] and sandbox.lock() is None  # stopped at the lock's read
    assert done.outputs["result"] == "failed"
    assert "cancelled by SIGTERM before the image was set; nothing was changed" in done.log
    assert "> **Cancelled by SIGTERM.** Nothing was changed." in done.summary
