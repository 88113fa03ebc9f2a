"""The few kubectl commands the engine runs, and nothing else.

Every command names the Deployment as ``deployment/NAME`` and passes flags as
``--flag=value``; the tests' kubectl simulator accepts exactly this syntax.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

REQUEST_TIMEOUT = "--request-timeout=60s"
# Seconds kubectl gets beyond its own --timeout before the engine gives up on the process.
PROCESS_GRACE = 60


@dataclass(frozen=True)
class Target:
    namespace: str
    deployment: str
    container: str

    @property
    def resource(self) -> str:
        return f"deployment/{self.deployment}"


@dataclass(frozen=True)
class CommandResult:
    args: tuple[str, ...]
    returncode: int
    output: str
    stdout: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class DeploymentState:
    image: str
    revision: str


class KubectlError(Exception):
    """A kubectl command failed in a way that stops the deploy before anything changed."""

    def __init__(self, message: str, result: CommandResult) -> None:
        super().__init__(message)
        self.result = result


Runner = Callable[[list[str], float], CommandResult]


def run_process(args: list[str], timeout: float) -> CommandResult:
    """Run a command without a shell, merging stderr into the output."""
    try:
        done = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(tuple(args), 124, f"kubectl did not finish within {timeout:.0f}s")
    except OSError as error:
        return CommandResult(tuple(args), 127, f"could not run kubectl: {error.strerror}")
    output = (done.stdout + done.stderr).strip()
    return CommandResult(tuple(args), done.returncode, output, done.stdout)


class Kubectl:
    def __init__(self, kubeconfig_file: str = "", runner: Runner = run_process) -> None:
        self._kubeconfig = [f"--kubeconfig={kubeconfig_file}"] if kubeconfig_file else []
        self._runner = runner
        # Called with each command line before it runs, so a log shows what is being waited on.
        self.announce: Callable[[list[str]], None] = lambda _command: None

    def _run(self, target: Target, args: list[str], timeout: float) -> CommandResult:
        command = ["kubectl", *args, f"--namespace={target.namespace}", *self._kubeconfig]
        self.announce(command)
        return self._runner(command, timeout)

    def read_state(self, target: Target) -> DeploymentState:
        result = self._run(
            target, ["get", target.resource, "--output=json", REQUEST_TIMEOUT], PROCESS_GRACE
        )
        if not result.ok:
            raise KubectlError(
                f"cannot read {target.resource} in namespace {target.namespace}", result
            )
        try:
            document = json.loads(result.stdout)
            containers = document["spec"]["template"]["spec"]["containers"]
            annotations = document["metadata"].get("annotations") or {}
        except (ValueError, KeyError, TypeError) as error:
            raise KubectlError(f"unexpected answer from kubectl get: {error}", result) from None
        images = {c.get("name"): c.get("image", "") for c in containers if isinstance(c, dict)}
        if target.container not in images:
            names = ", ".join(sorted(str(name) for name in images))
            raise KubectlError(
                f"{target.resource} has no container {target.container!r} (it has: {names})", result
            )
        revision = str(annotations.get("deployment.kubernetes.io/revision", ""))
        return DeploymentState(image=str(images[target.container]), revision=revision)

    def set_image(self, target: Target, image: str) -> CommandResult:
        args = ["set", "image", target.resource, f"{target.container}={image}", REQUEST_TIMEOUT]
        return self._run(target, args, PROCESS_GRACE)

    def rollout_status(self, target: Target, timeout_seconds: int) -> CommandResult:
        args = ["rollout", "status", target.resource, f"--timeout={timeout_seconds}s"]
        return self._run(target, args, timeout_seconds + PROCESS_GRACE)

    def rollout_undo(self, target: Target, revision: str) -> CommandResult:
        return self._run(target, undo_args(target, revision), PROCESS_GRACE)


def undo_args(target: Target, revision: str) -> list[str]:
    args = ["rollout", "undo", target.resource]
    if revision:
        args.append(f"--to-revision={revision}")
    return [*args, REQUEST_TIMEOUT]


def manual_commands(target: Target, revision: str, timeout_seconds: int) -> list[str]:
    """What an operator runs by hand (with their own kubeconfig) when the automatic undo failed."""
    namespace = f"--namespace={target.namespace}"
    undo = " ".join(["kubectl", *undo_args(target, revision)[:-1], namespace])
    status = f"kubectl rollout status {target.resource} {namespace} --timeout={timeout_seconds}s"
    return [undo, status]
