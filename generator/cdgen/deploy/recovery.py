"""The engine's way back: the undo, the degraded report, and what an exception or a
cancellation after ``set image`` leads to.

Nothing here assumes: a failed ``set image`` is followed by a look at the live image; an
undo is only issued blind when the recorded revision makes it safe; every report says what
was tried and what is known to be live.
"""

from __future__ import annotations

from cdgen.deploy.cancel import signal_name
from cdgen.deploy.console import Console
from cdgen.deploy.kubectl import (
    CommandResult,
    Kubectl,
    KubectlError,
    Target,
    manual_commands,
    status_command,
)
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import FAILED, ROLLED_BACK, Outcome
from cdgen.deploy.phases import Phases, describe


class Recovery(Phases):
    options: Options
    kubectl: Kubectl
    console: Console
    target: Target
    outcome: Outcome
    revision: str
    changed: bool | None
    recovering: bool
    undo_issued: bool
    undo_checked: bool = False

    def _show(self, result: CommandResult) -> None:
        self.console.external(result.output)

    def _stop_unchanged(self, reason: str, live: str, title: str = "Deploy failed") -> bool:
        """End the run with nothing changed: ``live`` is the image still running."""
        self.outcome.reason = reason
        self.outcome.deployed_image = live
        self.console.error(f"{reason}; nothing was changed", title)
        return False

    def wait_rollout(self, phase_name: str) -> bool:
        timeout = self.options.rollout_timeout
        with self._phase(phase_name) as phase:
            with self.console.group(f"{phase_name}: wait up to {timeout}s for the rollout"):
                result = self.kubectl.rollout_status(self.target, timeout)
                self._show(result)
            phase.ok = result.ok
            phase.detail = "complete" if result.ok else f"not complete (exit {result.returncode})"
        if not result.ok and phase_name == "Rollout":
            self.outcome.reason = f"the rollout did not complete within {timeout}s"
            self.console.error(f"{self.outcome.reason}; rolling back", "Rollout failed")
        return result.ok

    def look_after_error(self) -> None:
        """``set image`` failed: read what is live instead of assuming nothing changed."""
        reason, image = self.outcome.reason, self.options.image
        with self._phase("Check live image") as phase:
            try:
                live = self.kubectl.read_state(self.target).image
            except KubectlError as error:
                self._show(error.result)
                phase.detail = f"unknown: {error}"
                self.console.error(f"{reason}, and the live image cannot be read: rolling back")
                return
            phase.ok, phase.detail = True, f"{live} is live"
        previous = self.outcome.previous_image
        if live == image and live != previous:
            self.changed = True
            self.console.error(f"{reason}, but {image} went live: rolling back", "Set image failed")
            return
        self.changed = False
        self.outcome.deployed_image = live
        if live == previous:
            self.console.error(f"{reason}; {live} is still live, nothing was changed")
        else:
            self.console.error(f"{reason}; {live} is live, set by someone else: left as is")

    def undo(self) -> None:
        if self.changed is None and not self.revision:
            self.outcome.reason += (
                "; whether the new image went live is unknown, and without a recorded "
                "revision an undo could revert an earlier deploy"
            )
            self._degraded(attempted=False)
            return
        self.recovering = True
        try:
            undone = self._roll_back()
        except Exception as error:  # the undo path must end in a report, whatever happens
            self.outcome.crash = self.outcome.crash or describe(error)
            self.outcome.reason += f"; the rollback hit an unexpected error: {describe(error)}"
            undone = False
        if not undone:
            self._degraded(attempted=True)
            return
        self.outcome.result = ROLLED_BACK if self.options.mode == "deploy" else FAILED
        self.outcome.deployed_image = self.outcome.previous_image
        self.console.error(
            f"{self.options.image} was rolled back: {self.outcome.reason}", "Rolled back"
        )

    def _roll_back(self) -> bool:
        with self._phase("Roll back") as phase:
            with self.console.group(f"Roll back to {self.outcome.previous_image}"):
                result = self.kubectl.rollout_undo(self.target, self.revision)
                self._show(result)
            self.undo_issued = result.ok
            phase.ok = result.ok
            phase.detail = "undone" if result.ok else f"kubectl exit {result.returncode}"
        return result.ok and self.wait_rollout("Rollback rollout")

    def _degraded(self, *, attempted: bool) -> None:
        outcome = self.outcome
        outcome.result = FAILED
        outcome.degraded = True
        outcome.deployed_image = ""
        timeout = self.options.rollout_timeout
        outcome.manual_commands = manual_commands(self.target, self.revision, timeout)
        if attempted and not self.undo_issued:
            self._undo_went_through()
        if self.undo_issued:  # the undo went through (its revision is renumbered: not again)
            outcome.manual_commands = [status_command(self.target, timeout)]
            title = "ROLLBACK NOT VERIFIED"
            outcome.note = "The previous image is back in the Deployment, but not verified live."
        elif attempted:
            title, outcome.note = "ROLLBACK FAILED", "The automatic rollback FAILED."
        else:
            title = "NOT ROLLED BACK"
            outcome.note = "No automatic rollback was possible: nothing was undone."
        self.console.error(
            f"{outcome.note} After: {outcome.reason}. {self.target.resource} in namespace "
            f"{self.target.namespace}: the environment {self.options.environment} may be "
            "degraded. Run by hand, with the cluster's kubeconfig: "
            + " && ".join(outcome.manual_commands),
            f"{title}: environment may be degraded",
        )

    def on_error(self, error: Exception) -> None:
        """An unexpected error (a bug): roll back when anything may have changed."""
        detail = describe(error)
        self.outcome.crash = self.outcome.crash or detail
        if self.recovering:  # the way back itself broke: do not start it again
            self.outcome.reason += f"; then an unexpected error: {detail}"
            self._degraded(attempted=True)
            return
        if self.changed is False:
            self.outcome.result = FAILED
            self.outcome.reason = f"unexpected error: {detail}"
            self.outcome.deployed_image = self.outcome.previous_image
            self.console.error(
                f"{self.outcome.reason}; nothing was changed", "cdgen deploy crashed"
            )
            return
        self.outcome.reason = f"unexpected error after the image was set: {detail}"
        self.console.error(f"{self.outcome.reason}; rolling back", "cdgen deploy crashed")
        self.undo()

    def on_cancel(self, signum: int) -> None:
        """Cancelled: undo at once when the image may have changed, without waiting for the
        undo's rollout (the runner kills the job a few seconds later), then say so."""
        outcome = self.outcome
        outcome.signal, outcome.result = signum, FAILED
        cancelled = f"cancelled by {signal_name(signum)}"
        if self.changed is False:
            outcome.reason = f"{cancelled} before the image was set"
            outcome.deployed_image = outcome.previous_image
            outcome.note = "Nothing was changed."
            self.console.error(f"{outcome.reason}; nothing was changed", "Cancelled")
            return
        if self.undo_issued:
            outcome.reason = f"{cancelled} while waiting for the rollback"
            outcome.note = "kubectl rollout undo had been issued; its rollout was not waited for."
        elif not self._urgent_undo(cancelled):
            return
        outcome.deployed_image = ""
        check = status_command(self.target, self.options.rollout_timeout)
        outcome.manual_commands = [check]
        self.console.error(
            f"{outcome.reason}. {outcome.note} Check that {outcome.previous_image} is back: "
            + check,
            "Cancelled: rollback issued, not verified",
        )

    def _urgent_undo(self, cancelled: str) -> bool:
        outcome = self.outcome
        outcome.reason = f"{cancelled} after the image was set"
        if self.changed is None and not self.revision:
            self._degraded(attempted=False)
            return False
        with self._phase("Roll back (cancelled)") as phase:
            try:
                result = self.kubectl.rollout_undo(self.target, self.revision, urgent=True)
            except Exception as error:
                result = CommandResult((), 1, describe(error))
            self._show(result)
            phase.ok = result.ok
            phase.detail = "undo issued" if result.ok else f"kubectl exit {result.returncode}"
        if result.ok:
            outcome.note = (
                "kubectl rollout undo was issued at once; its rollout was not waited for."
            )
            return True
        if self._undo_went_through():
            outcome.note = "kubectl rollout undo had been applied; its rollout was not waited for."
            return True
        self._degraded(attempted=True)
        return False

    def _undo_went_through(self) -> bool:
        """An interruption may have come just after an undo was applied, and a second undo to
        the same revision fails (the revision is renumbered): look before calling it failed."""
        if not self.undo_checked:
            self.undo_checked = True
            try:
                live = self.kubectl.read_state(self.target, urgent=True).image
            except KubectlError as error:
                self._show(error.result)
                live = ""
            self.undo_issued = bool(live) and live == self.outcome.previous_image
        return self.undo_issued
