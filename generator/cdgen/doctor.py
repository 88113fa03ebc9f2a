"""`cdgen doctor`: check an environment's cluster before the first deploy.

For each Kubernetes environment of cdgen.yml it reads the Deployment and runs the engine's
own preflight checks, then asks ``kubectl auth can-i`` for every permission in the engine's
RBAC table; each problem comes with its fix. It uses the local kubeconfig (``--kubeconfig``
or ``KUBECONFIG``), not the environment's secret.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cdgen.deploy.kubectl import Kubectl, KubectlError, Runner, Target, run_process
from cdgen.deploy.preflight import FAIL, WARN, Where, check_deployment
from cdgen.deploy.rbac import DEPLOY, can_i_args, features_of, permissions, role_manifest
from cdgen.errors import CdgenError, UsageError

if TYPE_CHECKING:
    from cdgen.model import Kubernetes

OK = "ok"


@dataclass(frozen=True)
class Check:
    level: str  # ok | warn | fail
    message: str
    fix: str = ""


@dataclass
class EnvironmentReport:
    name: str
    target: Target
    checks: list[Check] = field(default_factory=list)
    role: str = ""  # the Role to apply, when permissions are missing

    def count(self, level: str) -> int:
        return sum(check.level == level for check in self.checks)


def doctor(
    config: Path,
    display: str,
    environment: str | None = None,
    kubeconfig: str | None = None,
    runner: Runner = run_process,
) -> list[EnvironmentReport]:
    """Check the chosen environment (default: every one); raise CdgenError when the
    descriptor is invalid or kubectl is missing, UsageError for an unknown environment."""
    from cdgen.descriptor import read_descriptor
    from cdgen.model import build_pipeline
    from cdgen.stamp import build_stamp
    from cdgen.validate import validate_document

    doc = read_descriptor(config, display)
    validate_document(doc)
    if "site" in doc.data:
        raise CdgenError(
            f"{display} deploys a static site (site:): cdgen doctor checks the Kubernetes "
            "Deployment of each environment, and a site has none"
        )
    environments = build_pipeline(doc.data, build_stamp()).environments
    names = [env.name for env in environments]
    if environment is not None and environment not in names:
        raise UsageError(
            f"{display} has no environment {environment!r} (it has: {', '.join(names)})"
        )
    if shutil.which("kubectl") is None:
        raise CdgenError("kubectl is not on PATH; install it to check the cluster")
    kubectl = Kubectl(kubeconfig or "", runner)
    return [
        check_environment(
            kubectl,
            env.name,
            _target(env.kubernetes),
            features_of(env.canary.traffic if env.canary else None),
        )
        for env in environments
        if environment in (None, env.name)
    ]


def _target(kubernetes: Kubernetes) -> Target:
    return Target(kubernetes.namespace, kubernetes.deployment, kubernetes.container)


def check_environment(
    kubectl: Kubectl, name: str, target: Target, features: tuple[str, ...] = (DEPLOY,)
) -> EnvironmentReport:
    """``features``: what the environment's deploys use (a canary needs more, see rbac)."""
    report = EnvironmentReport(name, target)
    report.checks += _deployment_checks(kubectl, target)
    missing = _permission_checks(kubectl, target.namespace, features)
    report.checks += missing
    if any(check.level == FAIL for check in missing):
        report.role = role_manifest(target.namespace, features=features)
    return report


def _deployment_checks(kubectl: Kubectl, target: Target) -> list[Check]:
    try:
        state = kubectl.read_state(target)
    except KubectlError as error:
        said = error.result.output.strip().splitlines()
        detail = f" ({said[-1]})" if said else ""
        fix = (
            f"check the namespace, deployment and container of this environment in "
            f"cdgen.yml, and that `kubectl get {target.resource} --namespace="
            f"{target.namespace}` works with this kubeconfig"
        )
        return [Check(FAIL, f"{error}{detail}", fix)]
    revision = state.revision or "unknown"
    checks = [Check(OK, f"container {target.container} runs {state.image} (revision {revision})")]
    where = Where(target.namespace, target.deployment)
    findings = check_deployment(state.document, where)
    checks += [Check(finding.level, finding.message, finding.fix) for finding in findings]
    if not findings:
        checks.append(Check(OK, "rollout keeps capacity, readiness probes set, undo possible"))
    return checks


def _permission_checks(kubectl: Kubectl, namespace: str, features: tuple[str, ...]) -> list[Check]:
    checks = []
    for verb, resource, why in permissions(features):
        allowed = kubectl.can_i(verb, resource, namespace)
        if allowed:
            continue
        if allowed is None:
            command = " ".join(["kubectl", *can_i_args(verb, resource), f"--namespace={namespace}"])
            checks.append(
                Check(FAIL, f"cannot tell whether {verb} {resource} is allowed", f"run: {command}")
            )
            continue
        checks.append(
            Check(
                FAIL,
                f"not allowed to {verb} {resource} in namespace {namespace} (needed to {why})",
                "apply the Role below and bind it to the account of the deploy kubeconfig",
            )
        )
    if not checks:
        checks.append(Check(OK, f"every permission the deploy needs in namespace {namespace}"))
    return checks


def format_report(reports: list[EnvironmentReport]) -> tuple[list[str], bool]:
    """The report as lines of text, and whether it found a problem that fails a deploy."""
    labels = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}
    lines: list[str] = []
    for report in reports:
        target = report.target
        lines.append(
            f"{report.name}: {target.resource} in namespace {target.namespace}, "
            f"container {target.container}"
        )
        for check in report.checks:
            lines.append(f"  {labels.get(check.level, check.level)}  {check.message}")
            if check.fix:
                lines.append(f"        fix: {check.fix}")
        if report.role:
            lines += [
                "  the Role the deploy needs:",
                *("    " + line for line in report.role.splitlines()),
            ]
    failures = sum(report.count(FAIL) for report in reports)
    warnings = sum(report.count(WARN) for report in reports)
    lines.append(f"cdgen doctor: {failures} problem(s), {warnings} warning(s)")
    return lines, failures > 0
