"""The few kubectl commands the engine runs, and nothing else.

Every command names the Deployment as ``deployment/NAME`` and passes flags as
``--flag=value``; the tests' kubectl simulator accepts exactly this syntax.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cdgen.deploy.rbac import can_i_args

REQUEST_TIMEOUT = "--request-timeout=60s"
# Seconds kubectl gets beyond its own --timeout before the engine gives up on the process.
PROCESS_GRACE = 60
# After a cancellation the runner kills the job about 10s after its first signal (GitHub sends
# SIGINT, SIGTERM 7.5s later, SIGKILL 2.5s after that): the undo, and the look at the live
# image when the undo fails, must both fit, with time left to write the outputs.
URGENT_UNDO = ("--request-timeout=4s", 5)
URGENT_READ = ("--request-timeout=2s", 3)


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
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def resource_version(self) -> str:
        return str(self.document.get("metadata", {}).get("resourceVersion", ""))

    def annotation(self, key: str) -> str | None:
        found = (self.document.get("metadata", {}).get("annotations") or {}).get(key)
        return found if isinstance(found, str) else None


class KubectlError(Exception):
    """A kubectl command failed in a way that stops the deploy before anything changed."""

    def __init__(self, message: str, result: CommandResult) -> None:
        super().__init__(message)
        self.result = result


class Runner(Protocol):
    def __call__(
        self, args: list[str], timeout: float, *, detach: bool = False
    ) -> CommandResult: ...


def run_process(args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
    """Run a command without a shell, merging stderr into the output. ``detach`` puts it in
    its own session, so a signal sent to the engine's process group does not cut it short."""
    try:
        done = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            start_new_session=detach,
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

    def _run(
        self, target: Target, args: list[str], timeout: float, *, detach: bool = False
    ) -> CommandResult:
        command = ["kubectl", *args, f"--namespace={target.namespace}", *self._kubeconfig]
        self.announce(command)
        return self._runner(command, timeout, detach=detach)

    def run(
        self, namespace: str, args: list[str], timeout: float, *, detach: bool = False
    ) -> CommandResult:
        """Any other command in ``namespace``: the canary's (see canary_kubectl)."""
        return self._run(Target(namespace, "", ""), args, timeout, detach=detach)

    def read_state(self, target: Target, *, urgent: bool = False) -> DeploymentState:
        flag, grace = URGENT_READ if urgent else (REQUEST_TIMEOUT, PROCESS_GRACE)
        result = self._run(target, ["get", target.resource, "--output=json", flag], grace)
        if not result.ok:
            raise KubectlError(
                f"cannot read {target.resource} in namespace {target.namespace}", result
            )
        try:
            document = json.loads(result.stdout)
            containers = document["spec"]["template"]["spec"]["containers"]
            annotations = document["metadata"].get("annotations") or {}
            images = {c.get("name"): c.get("image", "") for c in containers if isinstance(c, dict)}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise KubectlError(f"unexpected answer from kubectl get: {error!r}", result) from None
        if target.container not in images:
            names = ", ".join(sorted(str(name) for name in images))
            raise KubectlError(
                f"{target.resource} has no container {target.container!r} (it has: {names})", result
            )
        revision = str(annotations.get("deployment.kubernetes.io/revision", ""))
        return DeploymentState(str(images[target.container]), revision, document)

    def config_view(self) -> dict[str, Any]:
        """The kubeconfig as kubectl parsed it, secrets included (``--raw``): never print
        the answer. On failure kubectl's message may quote the file: mask it before showing.
        Shape: ``{"kind": "Config", "clusters": [...], "users": [{"name", "user": {...}}]}``
        (clientcmd/api/v1), whether the file was YAML block, flow or JSON."""
        command = ["kubectl", "config", "view", "--raw", "--output=json", *self._kubeconfig]
        self.announce(command)
        result = self._runner(command, PROCESS_GRACE)
        if not result.ok:
            raise KubectlError(
                f"kubectl cannot read the kubeconfig (exit {result.returncode})", result
            )
        try:
            config = json.loads(result.stdout)
        except ValueError:
            config = None
        if not isinstance(config, dict):
            empty = CommandResult(result.args, result.returncode, "")
            raise KubectlError("kubectl config view gave no JSON object", empty)
        return config

    def can_i(self, verb: str, resource: str, namespace: str) -> bool | None:
        """``kubectl auth can-i``: True or False, None when kubectl could not tell."""
        target = Target(namespace, "", "")
        args = [*can_i_args(verb, resource), REQUEST_TIMEOUT]
        result = self._run(target, args, PROCESS_GRACE)
        answer = result.stdout.strip().split(" ", 1)[0] if result.stdout.strip() else ""
        if answer == "yes" and result.ok:
            return True
        if answer == "no":
            return False
        return None

    def set_image(self, target: Target, image: str) -> CommandResult:
        args = ["set", "image", target.resource, f"{target.container}={image}", REQUEST_TIMEOUT]
        return self._run(target, args, PROCESS_GRACE)

    def rollout_status(self, target: Target, timeout_seconds: int) -> CommandResult:
        args = ["rollout", "status", target.resource, f"--timeout={timeout_seconds}s"]
        return self._run(target, args, timeout_seconds + PROCESS_GRACE)

    def annotate(
        self,
        target: Target,
        key: str,
        value: str | None,
        resource_version: str,
        *,
        urgent: bool = False,
    ) -> CommandResult:
        """Set (or, with None, remove) one annotation of the Deployment, only if the object is
        still at ``resource_version``: the API server refuses the write with a Conflict when
        someone changed it since it was read, which makes this a compare-and-set."""
        change = f"{key}-" if value is None else f"{key}={value}"
        flag, grace = URGENT_READ if urgent else (REQUEST_TIMEOUT, PROCESS_GRACE)
        args = ["annotate", target.resource, change, "--overwrite"]
        args += [f"--resource-version={resource_version}", flag]
        return self._run(target, args, grace, detach=urgent)

    def rollout_undo(self, target: Target, revision: str, *, urgent: bool = False) -> CommandResult:
        """``urgent``: issued on cancellation, with a short time limit and in its own session."""
        if urgent:
            flag, grace = URGENT_UNDO
            return self._run(target, [*undo_args(target, revision)[:-1], flag], grace, detach=True)
        return self._run(target, undo_args(target, revision), PROCESS_GRACE)


def undo_args(target: Target, revision: str) -> list[str]:
    args = ["rollout", "undo", target.resource]
    if revision:
        args.append(f"--to-revision={revision}")
    return [*args, REQUEST_TIMEOUT]


def status_command(target: Target, timeout_seconds: int) -> str:
    namespace = f"--namespace={target.namespace}"
    return f"kubectl rollout status {target.resource} {namespace} --timeout={timeout_seconds}s"


def manual_commands(target: Target, revision: str, timeout_seconds: int) -> list[str]:
    """What an operator runs by hand (with their own kubeconfig) when the automatic undo failed."""
    namespace = f"--namespace={target.namespace}"
    undo = " ".join(["kubectl", *undo_args(target, revision)[:-1], namespace])
    return [undo, status_command(target, timeout_seconds)]
