"""The kubectl commands a canary adds, and nothing else, in the syntax of kubectl.py: the
object named ``kind/NAME``, flags as ``--flag=value``.

- ``get service/NAME`` and ``get httproutes.gateway.networking.k8s.io/NAME`` (gateway);
- ``apply --filename=FILE`` of the canary Deployment (and Service), from a private file;
- ``scale deployment/NAME --replicas=N`` between steps;
- ``patch httproutes.gateway.networking.k8s.io/NAME --type=json --patch=[...]`` for weights;
- ``delete deployment/NAME [service/NAME] --ignore-not-found --wait=false`` at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from contextlib import suppress
from typing import Any

from cdgen.deploy.kubectl import (
    PROCESS_GRACE,
    REQUEST_TIMEOUT,
    URGENT_UNDO,
    CommandResult,
    Kubectl,
    KubectlError,
)

ROUTES = "httproutes.gateway.networking.k8s.io"


class CanaryKubectl:
    def __init__(self, kubectl: Kubectl, namespace: str) -> None:
        self.kubectl = kubectl
        self.namespace = namespace

    def _run(self, args: list[str], *, urgent: bool = False) -> CommandResult:
        if urgent:  # on cancellation: a short limit, in its own session (see kubectl.py)
            flag, grace = URGENT_UNDO
            return self.kubectl.run(self.namespace, [*args, flag], grace, detach=True)
        return self.kubectl.run(self.namespace, [*args, REQUEST_TIMEOUT], PROCESS_GRACE)

    def find(self, resource: str) -> dict[str, Any] | None:
        """The object, or None when there is none; KubectlError when it cannot be read."""
        try:
            return self.get(resource)
        except KubectlError as error:
            if "(NotFound)" in error.result.output:
                return None
            raise

    def get(self, resource: str, *, urgent: bool = False) -> dict[str, Any]:
        """The object as JSON; KubectlError when it cannot be read."""
        result = self._run(["get", resource, "--output=json"], urgent=urgent)
        if not result.ok:
            raise KubectlError(f"cannot read {resource} in namespace {self.namespace}", result)
        try:
            document = json.loads(result.stdout)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise KubectlError(f"unexpected answer from kubectl get {resource}", result)
        return document

    def apply(self, manifest: dict[str, Any]) -> CommandResult:
        """``kubectl apply`` of one object, written to a private temporary file (the pod
        template may hold environment values) that is removed afterwards."""
        try:
            descriptor, path = tempfile.mkstemp(prefix="cdgen-canary-", suffix=".json")
        except OSError as error:
            where = tempfile.gettempdir()
            return CommandResult((), 1, f"cannot write the manifest in {where}: {error.strerror}")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, sort_keys=True)
            return self._run(["apply", f"--filename={path}"])
        except OSError as error:
            return CommandResult((), 1, f"cannot write the manifest {path}: {error.strerror}")
        finally:
            with suppress(OSError):
                os.unlink(path)

    def scale(self, deployment: str, replicas: int) -> CommandResult:
        return self._run(["scale", f"deployment/{deployment}", f"--replicas={replicas}"])

    def patch_route(
        self, route: str, ops: list[dict[str, Any]], *, urgent: bool = False
    ) -> CommandResult:
        patch = json.dumps(ops, sort_keys=True, separators=(",", ":"))
        return self._run(
            ["patch", f"{ROUTES}/{route}", "--type=json", f"--patch={patch}"], urgent=urgent
        )

    def delete(self, resources: list[str], *, urgent: bool = False) -> CommandResult:
        return self._run(
            ["delete", *resources, "--ignore-not-found", "--wait=false"], urgent=urgent
        )

    def by_hand(self, args: list[str]) -> str:
        """A command an operator can paste, with their own kubeconfig."""
        return shlex.join(["kubectl", *args, f"--namespace={self.namespace}"])

    def delete_command(self, resources: list[str]) -> str:
        return self.by_hand(["delete", *resources, "--ignore-not-found"])

    def patch_command(self, route: str, ops: list[dict[str, Any]]) -> str:
        patch = json.dumps(ops, sort_keys=True, separators=(",", ":"))
        return self.by_hand(["patch", f"{ROUTES}/{route}", "--type=json", f"--patch={patch}"])
