"""The deploy lock between real processes: engines started together against one simulated
cluster take turns, and a cancelled engine leaves the lock as it should (someone else's
untouched, its own freed at once)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from support.sandbox import image
from support.smoke_server import SmokeServer

from .conftest import NAMESPACE, ROOT, Sandbox, parse_outputs, workload
from .lock_test import held_by


@dataclass
class Engine:
    name: str
    process: subprocess.Popen[str]
    kubeconfig: Path
    outputs_file: Path

    def finish(self) -> tuple[int, str, dict[str, str]]:
        log, _ = self.process.communicate(timeout=60)
        outputs = parse_outputs(self.outputs_file.read_text(encoding="utf-8"))
        return self.process.returncode, log, outputs


def start(tmp_path: Path, name: str, **inputs: str) -> Engine:
    """``python3 -m cdgen.deploy`` as the action runs it; each engine has its own (empty)
    kubeconfig file, which names it in the simulator's call log."""
    folder = tmp_path / name
    folder.mkdir()
    kubeconfig, outputs = folder / "kubeconfig", folder / "outputs"
    kubeconfig.write_text("", encoding="utf-8")
    kubeconfig.chmod(0o600)
    outputs.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "generator"),
        "USER": name,
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "CDGEN_KUBECONFIG_FILE": str(kubeconfig),
        "CDGEN_NAMESPACE": NAMESPACE,
        "CDGEN_DEPLOYMENT": "api",
        "CDGEN_ROLLOUT_TIMEOUT": "5s",
        "CDGEN_SMOKE_RETRIES": "0",
        **{f"CDGEN_{key.upper()}": value for key, value in inputs.items()},
    }
    process = subprocess.Popen(
        ["/usr/bin/python3", "-S", "-B", "-m", "cdgen.deploy"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Engine(name, process, kubeconfig, outputs)


def test_two_deploys_started_together_take_turns(
    sandbox: Sandbox, server: SmokeServer, tmp_path: Path
) -> None:
    http = sandbox.state()["http"]
    for tag in ("v2", "v3"):  # each smoke test takes a second and checks its own version
        http[image(tag)] = {"delay": 1}
    sandbox.update(http=http)
    smoke = {"smoke_url": f"{server.url}/{NAMESPACE}/api", "smoke_timeout": "5s"}
    engines = [
        start(tmp_path, name, image=image(tag), expect_version=tag, **smoke)
        for name, tag in (("alice", "v2"), ("bob", "v3"))
    ]
    done = {engine.name: engine.finish() for engine in engines}
    for code, log, _ in done.values():
        assert code == 0, log
    calls = sandbox.calls()
    owner = {f"--kubeconfig={engine.kubeconfig}": engine.name for engine in engines}

    def by(name: str) -> list[int]:
        return [i for i, argv in enumerate(calls) if owner[argv[-1]] == name]

    def set_image(name: str) -> int:
        return next(i for i in by(name) if calls[i][:2] == ["set", "image"])

    first, second = sorted(owner.values(), key=set_image)
    assert by(second)[0] < by(first)[-1]  # they ran at the same time…
    assert set_image(second) > by(first)[-1]  # …and the second set its image after the first
    assert calls[by(first)[-1]][:3] == ["annotate", "deployment/api", "cdgen.dev/deploy-lock-"]
    _, second_log, second_outputs = done[second]
    _, _, first_outputs = done[first]
    assert f"held by {first} (cdgen deploy, pid " in second_log
    assert second_outputs["previous-image"] == first_outputs["deployed-image"]
    assert sandbox.image() == second_outputs["deployed-image"]
    assert sandbox.lock() is None


def test_sigterm_while_waiting_for_the_lock_changes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.set_lock(held_by())
    before = workload(sandbox.deployment())
    engine = start(tmp_path, "carol", image=image("v2"), lock_wait="60s")
    assert engine.process.stdout is not None
    for line in engine.process.stdout:
        if line.startswith("waiting up to 60s for the deploy lock"):
            break
    sent = time.monotonic()
    engine.process.send_signal(signal.SIGTERM)
    code, log, outputs = engine.finish()
    assert time.monotonic() - sent < 5
    assert code == 128 + signal.SIGTERM
    assert "cancelled by SIGTERM before the image was set; nothing was changed" in log
    assert outputs["result"] == "failed"
    assert set(sandbox.verbs()) == {"get"}
    assert workload(sandbox.deployment()) == before  # their lock, untouched


def test_a_cancellation_after_taking_the_lock_frees_it_at_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.update(delays={"get": 1})
    engine = start(tmp_path, "dave", image=image("v2"))
    assert engine.process.stdout is not None
    gets = 0
    for line in engine.process.stdout:
        gets += line.startswith("$ kubectl get deployment/api")
        if gets == 2:  # reading the current image, under the lock
            break
    time.sleep(0.3)  # let kubectl get going
    engine.process.send_signal(signal.SIGINT)
    code, log, _ = engine.finish()
    assert code == 128 + signal.SIGINT, log
    assert "cancelled by SIGINT before the image was set; nothing was changed" in log
    verbs = sandbox.verbs()  # the read cut short is logged unless it was cut before it began
    assert verbs in (["get", "annotate", "get", "get", "annotate"], ["get", "annotate"] * 2)
    release = sandbox.calls()[-2:]
    assert all("--request-timeout=2s" in argv for argv in release)
    assert sandbox.lock() is None and sandbox.mutating_calls() == []
