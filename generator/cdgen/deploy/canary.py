"""The canary release: the new image first runs as ``<deployment>-canary`` beside the stable
Deployment, step by step, watched by Prometheus; only then is it set on the stable one.

Phases, after the engine's own (kubeconfig, lock, current image, preflight):
plan (the real share of each step, the HTTPRoute; refuses before anything changes), the
deployment record, then each step (bring the canary up to its share, wait for it to be
ready, analyse it through the pause), then the promotion (``set image`` on stable, rollout,
smoke test, with the engine's own undo), and last the canary's removal (weights restored,
canary deleted) whatever happened.

An abort (a bound violated, no data that fails, Prometheus not answering, a canary that is
never ready) removes the canary: the stable Deployment was never touched, and the result is
``rolled-back``. An error or a cancellation at any point ends the same way (on cancellation
with short kubectl limits); a canary that cannot be removed ends in the loud degraded
report, with the commands to run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cdgen.deploy.analysis import Watch, describe_check, step_failure
from cdgen.deploy.canary_kubectl import ROUTES, CanaryKubectl
from cdgen.deploy.canary_options import CanaryOptions, canary_worst_case
from cdgen.deploy.canary_recovery import CanaryRecovery
from cdgen.deploy.canary_report import CanaryReport, Check, StepReport
from cdgen.deploy.console import Console
from cdgen.deploy.kubectl import CommandResult, Kubectl, KubectlError, Target
from cdgen.deploy.options import Options
from cdgen.deploy.records import Records
from cdgen.deploy.smoke import Probe, probe_url
from cdgen.deploy.traffic import (
    CANARY_OF,
    SUFFIX,
    RoutePlan,
    canary_deployment,
    canary_labels,
    canary_replicas,
    canary_service,
    plan_route,
    real_share,
    replica_refusal,
    service_names,
    service_selects,
)


class CanaryEngine(CanaryRecovery):
    def __init__(
        self,
        options: Options,
        kubectl: Kubectl,
        console: Console,
        probe: Probe = probe_url,
        sleep: Callable[[float], None] = time.sleep,
        *,
        records: Records | None = None,
        holder: str = "cdgen deploy",
        time_scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(options, kubectl, console, probe, sleep, records=records, holder=holder)
        canary = self.options.canary
        assert canary is not None  # build_engine chooses this engine only for a canary
        self.canary: CanaryOptions = canary
        # Tests run the production descriptor with its pauses cut to seconds: a time scale
        # that no input, flag or environment variable can set.
        self.time_scale, self.monotonic = time_scale, monotonic
        self.cluster = CanaryKubectl(self.kubectl, self.options.namespace)
        self.canary_target = Target(
            self.options.namespace, self.options.deployment + SUFFIX, self.options.container
        )
        self.report = CanaryReport(
            canary.traffic, self.canary_target.deployment, canary.analysis.metrics
        )
        self.outcome.canary = self.report
        self.route: RoutePlan | None = None
        self.moved: tuple[str, ...] = ()  # gateway: the stable Service's selector keys
        self.stable_service: dict[str, Any] = {}
        self.stable_replicas = 0
        self.weight = 0  # the percent the route sends to the canary now
        self.route_live: dict[str, Any] = {}
        self.started = self.removed = self.removing = False
        self.console.add_secrets([canary.analysis.token, canary.analysis.prometheus])
        at = self.steps.index(self._open_record)
        self.steps[at:at] = [self._plan_canary]
        at = self.steps.index(self._set_image)
        self.steps[at:at] = [self._release_canary]

    def _worst_case_seconds(self) -> int:
        canary = self.options.canary
        extra = 0
        if canary is not None:
            extra = canary_worst_case(
                len(canary.steps),
                canary.pause,
                self.options.rollout_timeout,
                len(canary.analysis.metrics),
            )
        return super()._worst_case_seconds() + extra

    # Planning: nothing changes here ---------------------------------------------------

    def _plan_canary(self) -> bool:
        with self._phase("Plan the canary") as phase:
            try:
                problem = self._plan()
            except KubectlError as error:
                self._show(error.result)
                problem = str(error)
            phase.ok = not problem
            phase.detail = problem or ", ".join(
                f"{s.percent}%: {s.share:.1f}% real" for s in self.report.steps
            )
        if problem:
            return self._stop_unchanged(f"canary: {problem}", self.outcome.previous_image)
        return True

    def _spec(self) -> dict[str, Any]:
        spec = self.document.get("spec")
        return spec if isinstance(spec, dict) else {}

    def _plan(self) -> str:
        spec = self._spec()
        stable = spec.get("replicas", 1)
        if not isinstance(stable, int) or stable < 1:
            return (
                f"{self.target.resource} runs no replicas: a canary needs a stable one to compare"
            )
        self.stable_replicas = stable
        if len(self.canary_target.deployment) > 253:
            return f"the canary's name {self.canary_target.deployment} is longer than 253"
        problem = self._foreign(f"deployment/{self.canary_target.deployment}")
        gateway = self.canary.traffic == "gateway"
        if gateway and not problem:
            problem = self._plan_route()
        if problem:
            return problem
        refusals = [replica_refusal(p, stable) for p in self.canary.steps if not gateway]
        if any(refusals):
            return next(refusal for refusal in refusals if refusal)
        for number, percent in enumerate(self.canary.steps, 1):
            share = float(percent) if gateway else real_share(percent, stable)
            replicas = self._replicas(percent)
            self.report.steps.append(StepReport(number, percent, share, replicas, stable))
            self.console.info(
                f"canary step {number}: {percent}% requested, {share:.1f}% real "
                f"({replicas} canary pod(s), {stable} stable)"
            )
        return ""

    def _replicas(self, percent: int) -> int:
        if self.canary.traffic == "gateway":  # capacity for its share of the requests
            return max(1, -(-percent * self.stable_replicas // 100))
        return canary_replicas(percent, self.stable_replicas)

    def _plan_route(self) -> str:
        route_name = self.canary.route
        route = self.cluster.get(f"{ROUTES}/{route_name}")
        labels = self._template_labels()
        found = []
        for name in service_names(route):
            service = self.cluster.get(f"service/{name}")
            if service_selects(service, labels):
                found.append((name, service))
        if len(found) != 1:
            which = ", ".join(name for name, _ in found) or "none"
            return (
                f"HTTPRoute {route_name} must send traffic to exactly one Service selecting the "
                f"pods of {self.target.resource} (found: {which})"
            )
        name, self.stable_service = found[0]
        if len(name + SUFFIX) > 63:
            return f"the canary Service {name}{SUFFIX} would be longer than 63 characters"
        self.moved = tuple(sorted(self.stable_service["spec"]["selector"]))
        self.route, problem = plan_route(route, route_name, name)
        return problem or self._foreign(f"service/{name}{SUFFIX}")

    def _foreign(self, resource: str) -> str:
        """Why the canary's name is taken: by an object that is not this Deployment's
        canary (one left by an earlier run is reused, then deleted)."""
        found = self.cluster.find(resource)
        annotations = ((found or {}).get("metadata") or {}).get("annotations") or {}
        if found is None or annotations.get(CANARY_OF) == self.options.deployment:
            return ""
        return (
            f"{resource} exists and is not the canary of {self.target.resource} (no "
            f"{CANARY_OF} annotation naming it): rename it, or it would be replaced and deleted"
        )

    # The steps: from the first apply on, the canary may exist ----------------------------

    def _release_canary(self) -> bool:
        started = self.monotonic()
        try:
            for step in self.report.steps:
                if not self._run_step(step):
                    self.report.decision = "aborted"
                    return False
                step.decision = "passed"
            self.report.decision = "promoting"
            self.console.notice(
                f"every step passed its analysis: setting {self.options.image} on "
                f"{self.target.resource}",
                "Canary passed",
            )
            return True
        finally:
            self.report.seconds += self.monotonic() - started

    def _run_step(self, step: StepReport) -> bool:
        with self._phase(f"Canary {step.label}") as phase:
            step.decision = "interrupted"
            problem = self._bring_up(step)
            if not problem:
                checks = self._watch(step)
                problem = step_failure(checks)
                if problem:
                    problem += f" at check {checks[-1].number}" if checks else ""
            phase.ok = not problem
            phase.detail = problem or f"{len(step.checks)} check(s) passed"
        if problem:
            step.decision = "aborted: " + problem
            self.outcome.reason = f"canary {step.label}: {problem}"
            self.console.error(f"{self.outcome.reason}; removing the canary", "Canary aborted")
        return not problem

    def _bring_up(self, step: StepReport) -> str:
        """The canary at the step's share, ready; "" or what went wrong."""
        self.started = True
        with self.console.group(f"Canary {step.label}: {step.share:.1f}% of the traffic"):
            if step.number == 1:
                result = self._create(step.canary_replicas)
            else:
                result = self.cluster.scale(self.canary_target.deployment, step.canary_replicas)
            self._show(result)
            if not result.ok:
                return f"kubectl could not bring the canary up (exit {result.returncode})"
            timeout = self.options.rollout_timeout
            result = self.kubectl.rollout_status(self.canary_target, timeout)
            self._show(result)
            if not result.ok:
                return f"the canary was not ready within {timeout}s"
            if self.route is not None:
                problem = self._reweight(step.percent, urgent=False)
                if problem:
                    return problem
        return ""

    def _create(self, replicas: int) -> CommandResult:
        """Apply the canary (its Service first, with gateway traffic)."""
        options, name = self.options, self.canary_target.deployment
        if self.route is not None:
            labels = canary_labels(self._template_labels(), self.moved, name)
            service = canary_service(
                self.stable_service, self.route.canary_service, labels, options.deployment
            )
            result = self.cluster.apply(service)
            if not result.ok:
                return result
            self._show(result)
        manifest = canary_deployment(
            self.document,
            name=name,
            container=options.container,
            image=options.image,
            replicas=replicas,
            moved=self.moved,
        )
        return self.cluster.apply(manifest)

    def _template_labels(self) -> dict[str, str]:
        template = self._spec().get("template") or {}
        labels: dict[str, str] = (template.get("metadata") or {}).get("labels") or {}
        return labels

    def _watch(self, step: StepReport) -> list[Check]:
        scale = self.time_scale
        names = {
            "canary": self.canary_target.deployment,
            "stable": self.options.deployment,
            "namespace": self.options.namespace,
        }

        def record(check: Check) -> None:
            step.checks.append(check)
            self.console.info(describe_check(check))

        analysis = self.canary.analysis
        return Watch(
            analysis,
            names,
            self.canary.pause * scale,
            analysis.interval * scale,
            record,
            self.sleep,
            self.monotonic,
        ).run()
