"""The canary's way back: removing it (weights restored first, then the canary deleted) at
the end of every run that started one, after an error, and on cancellation (with short
kubectl limits), and the degraded report when it cannot be removed.

The order matters: a route still sending traffic to a deleted canary Service would fail
those requests, so the canary is deleted only once the weights are back; when they cannot
be restored, the canary is left running and the report says what to run.
"""

from __future__ import annotations

from typing import Any

from cdgen.deploy.canary_kubectl import ROUTES, CanaryKubectl
from cdgen.deploy.canary_options import CanaryOptions
from cdgen.deploy.canary_report import CanaryReport
from cdgen.deploy.cancel import signal_name
from cdgen.deploy.engine import Engine
from cdgen.deploy.kubectl import KubectlError, Target
from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK
from cdgen.deploy.phases import describe
from cdgen.deploy.traffic import RoutePlan


class CanaryRecovery(Engine):
    canary: CanaryOptions
    cluster: CanaryKubectl
    canary_target: Target
    report: CanaryReport
    route: RoutePlan | None
    weight: int
    route_live: dict[str, Any]  # the route as last read after this run's patch
    started: bool
    removed: bool
    removing: bool

    def _canary_objects(self) -> list[str]:
        objects = [f"deployment/{self.canary_target.deployment}"]
        if self.route is not None:
            objects.append(f"service/{self.route.canary_service}")
        return objects

    def _reweight(self, percent: int, *, urgent: bool) -> str:
        """Send ``percent`` of the route's traffic to the canary (0: restore the route);
        "" or what went wrong. Cancelled, it tests the route as last read rather than
        spend the seconds a runner gives on reading it again."""
        route = self.route
        assert route is not None  # gateway traffic only
        try:
            live = self.route_live if urgent and self.route_live else None
            live = live or self.cluster.get(f"{ROUTES}/{route.route}", urgent=urgent)
        except KubectlError as error:
            self._show(error.result)
            return str(error)
        ops, problem = route.patch(percent, self.weight, live)
        if problem:
            self.console.error(problem, "HTTPRoute changed")
            return problem
        result = self.cluster.patch_route(route.route, ops, urgent=urgent)
        self._show(result)
        if not result.ok:
            return f"HTTPRoute {route.route} was not reweighted (kubectl exit {result.returncode})"
        self.weight, self.route_live = percent, {}
        if (
            percent and not urgent
        ):  # as the API server stored it (defaults and all), for a cancellation
            try:
                self.route_live = self.cluster.get(f"{ROUTES}/{route.route}")
            except KubectlError as error:
                self._show(error.result)
        return ""

    def _remove_canary(self, *, urgent: bool) -> bool:
        """Restore the weights, then delete the canary; True when both were done."""
        self.removing = True
        problems: list[str] = []
        with self._phase("Remove the canary" + (" (cancelled)" if urgent else "")) as phase:
            route = self.route
            if route is not None and self.weight:
                problem = self._reweight(0, urgent=urgent)
                if problem:
                    problems.append(
                        f"the weights of HTTPRoute {route.route} were not restored ({problem}), "
                        "so the canary was left running"
                    )
            if not problems:
                result = self.cluster.delete(self._canary_objects(), urgent=urgent)
                self._show(result)
                if not result.ok:
                    problems.append(
                        f"the canary was not deleted (kubectl exit {result.returncode})"
                    )
            phase.ok = not problems
            done = "weights restored, canary deleted" if route else "canary deleted"
            phase.detail = "; ".join(problems) or done
        self.removing = False
        self.removed = not problems
        self.report.removal = phase.detail
        return self.removed

    def _removal_commands(self) -> list[str]:
        commands = []
        if self.route is not None and self.weight:
            commands.append(
                self.cluster.patch_command(self.route.route, self.route.restore_by_hand())
            )
        return [*commands, self.cluster.delete_command(self._canary_objects())]

    def _canary_degraded(self, problem: str) -> None:
        """The canary (the new image) may still take traffic: say so, with what to run."""
        outcome = self.outcome
        commands = self._removal_commands()
        outcome.result, outcome.degraded = FAILED, True
        outcome.deployed_image = ""
        outcome.manual_commands = [*commands, *outcome.manual_commands]
        outcome.note = f"The canary could not be removed: {problem}. {outcome.note}".strip()
        outcome.reason = outcome.reason or problem
        self.console.error(
            f"{outcome.note} {self.canary_target.deployment} (image {self.options.image}) may "
            f"still take traffic in namespace {self.options.namespace}. Run by hand, with the "
            "cluster's kubeconfig: " + " && ".join(commands),
            "CANARY NOT REMOVED: environment may be degraded",
        )

    def _deploy(self) -> None:
        super()._deploy()
        if not self.started:
            return
        promoted = self.outcome.result == DEPLOYED
        if self.report.decision == "promoting":
            self.report.decision = "promoted" if promoted else "promotion failed"
        if self._remove_canary(urgent=False):
            if self.changed is False and not promoted:  # aborted: stable never touched
                self._aborted()
        elif promoted:  # the canary runs the image now live and verified: no harm, but say so
            self.outcome.manual_commands = self._removal_commands()
            self.console.warning(
                f"{self.report.removal}. Remove it by hand: "
                + " && ".join(self.outcome.manual_commands),
                "Canary not removed",
            )
        else:
            self._canary_degraded(self.report.removal)

    def _aborted(self) -> None:
        outcome = self.outcome
        outcome.result = ROLLED_BACK
        outcome.deployed_image = outcome.previous_image
        self.console.error(
            f"{self.options.image} did not go live: {outcome.reason}. The canary was removed; "
            f"{self.target.resource} still runs {outcome.previous_image}",
            "Rolled back",
        )

    def on_error(self, error: Exception) -> None:
        if not self.started or self.removed:
            super().on_error(error)
            return
        if self.removing:  # removing the canary itself broke
            self.outcome.crash = self.outcome.crash or describe(error)
            self.removing = False
            self._canary_degraded(f"an unexpected error: {describe(error)}")
            return
        self.report.decision = "stopped by an unexpected error"
        if self.changed is not False:
            super().on_error(error)  # the promotion's undo of the stable Deployment
        else:
            self.outcome.crash = self.outcome.crash or describe(error)
            self.outcome.reason = f"unexpected error during the canary: {describe(error)}"
            self.console.error(
                f"{self.outcome.reason}; removing the canary", "cdgen deploy crashed"
            )
        if not self._remove_canary(urgent=False):
            self._canary_degraded(self.report.removal)
        elif self.changed is False:
            self._aborted()

    def on_cancel(self, signum: int) -> None:
        """Cancelled: the stable Deployment's urgent undo when the promotion had begun, then
        the canary's removal, both with short kubectl limits."""
        if not self.started or self.removed:
            super().on_cancel(signum)
            return
        outcome = self.outcome
        self.report.decision = "cancelled"
        if self.changed is not False:
            super().on_cancel(signum)
        else:
            outcome.signal, outcome.result = signum, FAILED
            outcome.reason = f"cancelled by {signal_name(signum)} during the canary"
            outcome.deployed_image = outcome.previous_image
        self.removing = False
        if not self._remove_canary(urgent=True):
            self._canary_degraded(self.report.removal)
        elif self.changed is False:
            outcome.note = "The canary was removed; the stable Deployment was not changed."
            self.console.error(f"{outcome.reason}. {outcome.note}", "Cancelled")
        else:
            outcome.note = f"{outcome.note} The canary was removed.".strip()
