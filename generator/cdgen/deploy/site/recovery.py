"""The site engine's way back: switch production back to what it served before, look before
calling a failed switch a change, and report loudly what could not be undone; also what an
exception, a cancellation and the closing of the deployment record lead to."""

from __future__ import annotations

from collections.abc import Callable

from cdgen.deploy.cancel import Cancelled, signal_name
from cdgen.deploy.console import Console
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import FAILED, ROLLED_BACK, SUCCESS, Outcome
from cdgen.deploy.phases import Phases, describe
from cdgen.deploy.recording import closing
from cdgen.deploy.records import Records
from cdgen.deploy.site.provider import Deployment, Provider, ProviderError


class SiteRecovery(Phases):
    options: Options
    provider: Provider
    console: Console
    records: Records | None
    manual: Callable[[str], str]
    outcome: Outcome
    previous: Deployment | None
    new: Deployment | None
    changed: bool | None
    recovering: bool

    # --- the way back --------------------------------------------------------------------

    def _undo(self, *, urgent: bool = False) -> bool:
        """Switch production back to what it served before; False when that failed."""
        outcome, previous = self.outcome, self.previous
        if not self.provider.switchable:
            self._nothing_to_undo()
            return True
        if previous is None:
            outcome.reason += "; production served no deployment before, so none can serve again"
            return self._degraded()
        if self.changed is None and not urgent and self._unchanged():
            return True
        self.recovering = True
        if not self._switch_back(previous, urgent):
            return self._degraded()
        if urgent:
            outcome.note = f"A switch back to {previous.ident} was requested, not waited for."
            outcome.manual_commands = [self.manual(previous.ident)]
            return True
        return self._back(previous)

    def _nothing_to_undo(self) -> None:
        """A deployment no production domain serves (Vercel's before promotion, Cloudflare's
        previews) fails where it is: there is no earlier one to serve instead."""
        outcome = self.outcome
        outcome.result = FAILED
        outcome.deployed_image = self.new.ident if self.new else ""
        outcome.note = (
            "No production domain serves it, so there is nothing to roll back: the pipeline "
            "stops here."
        )
        self.console.error(f"{outcome.reason}. {outcome.note}", "Deploy failed")

    def _switch_back(self, previous: Deployment, urgent: bool) -> bool:
        back = (
            self.provider.undo_rollback
            if self.outcome.mode == "rollback"
            else self.provider.rollback
        )
        with self._phase("Roll back (cancelled)" if urgent else "Switch back") as phase:
            try:
                back(previous.ident, urgent=urgent)
            except ProviderError as error:
                self.console.external(error.output)
                phase.detail = str(error)
                self.outcome.reason += f"; switching back failed: {error}"
                return False
            phase.ok, phase.detail = True, f"{previous.ident} requested"
        return True

    def _back(self, previous: Deployment) -> bool:
        """After switching back: it counts once production serves the previous one."""
        outcome = self.outcome
        try:
            live = self.provider.live()
        except ProviderError as error:
            outcome.reason += f"; then {error}"
            return self._degraded()
        if live is None or not live.is_named(previous.ident):
            outcome.reason += f"; {live.ident if live else 'nothing'} is live after switching back"
            return self._degraded()
        outcome.result = ROLLED_BACK if outcome.mode == "deploy" else FAILED
        outcome.deployed_image = previous.ident
        self.console.error(
            f"{outcome.image or 'the deployment'} was rolled back: {outcome.reason}", "Rolled back"
        )
        return True

    def _unchanged(self) -> bool:
        """Whether a switch that failed left production as it was: look, do not assume."""
        try:
            live = self.provider.live()
        except ProviderError:
            return False
        if live is None or self.previous is None or not live.is_named(self.previous.ident):
            return False
        self.changed = False
        outcome = self.outcome
        outcome.result, outcome.deployed_image = FAILED, self.previous.ident
        self.console.error(
            f"{outcome.reason}; {self.previous.ident} is still live, nothing was changed"
        )
        return True

    def _degraded(self) -> bool:
        outcome = self.outcome
        outcome.result, outcome.degraded, outcome.deployed_image = FAILED, True, ""
        previous = self.previous.ident if self.previous else ""
        outcome.manual_commands = [self.manual(previous)] if previous else []
        outcome.note = "The automatic rollback FAILED."
        commands = " && ".join(outcome.manual_commands) or "choose a deployment to serve"
        self.console.error(
            f"{outcome.note} After: {outcome.reason}. Production of {outcome.environment} may "
            f"be degraded. Run by hand: {commands}",
            "ROLLBACK FAILED: environment may be degraded",
        )
        return False

    def _on_error(self, error: Exception) -> None:
        """A provider's failure during the change, or a bug: back when anything changed."""
        detail = str(error) if isinstance(error, ProviderError) else describe(error)
        if isinstance(error, ProviderError):
            self.console.external(error.output)
        else:
            self.outcome.crash = self.outcome.crash or detail
        outcome = self.outcome
        if self.recovering:
            outcome.reason += f"; then {detail}"
            self._degraded()
            return
        outcome.reason = detail
        if self.changed is False:
            outcome.result, outcome.deployed_image = FAILED, outcome.previous_image
            self.console.error(f"{detail}; nothing was changed", "Deploy failed")
            return
        self.console.error(f"{detail}; switching production back", "Deploy failed")
        self._undo()

    def _on_cancel(self, signum: int) -> None:
        outcome = self.outcome
        outcome.signal, outcome.result = signum, FAILED
        cancelled = f"cancelled by {signal_name(signum)}"
        if self.changed is False or not self.provider.switchable:
            outcome.reason = f"{cancelled}; production was not changed"
            outcome.deployed_image = outcome.previous_image
            outcome.note = "Nothing production serves was changed."
            self.console.error(outcome.reason, "Cancelled")
            return
        outcome.reason = f"{cancelled} after production was switched"
        if self._undo(urgent=True):
            commands = " && ".join(outcome.manual_commands)
            self.console.error(
                f"{outcome.reason}. {outcome.note} If it did not go through, run: {commands}",
                "Cancelled: rollback requested, not verified",
            )

    def _close_record(self) -> None:
        outcome = self.outcome
        if self.records is None:
            return
        if outcome.deployment_id is None:  # an opening cut short after GitHub made the record
            outcome.deployment_id = self.records.opened
        ident = outcome.deployment_id
        if ident is None:
            return
        try:
            if self.options.recording.keep_open and outcome.result == SUCCESS[outcome.mode]:
                outcome.record = f"deployment {ident}: in progress until the end-to-end tests end"
                return
            state, description = closing(outcome)
            if outcome.signal and self.changed is False:  # nothing it made was served
                state, description = "failure", f"cancelled before {outcome.image} went live"
            if outcome.signal:
                self.records.budget = 3.0
            closed = self.records.close(ident, state, description)
            outcome.record = f"deployment {ident}: {state}" + ("" if closed else " (not written)")
        except (Cancelled, KeyboardInterrupt, Exception) as error:
            self.console.warning(
                f"stopped while closing the deployment record ({describe(error)})", "Bookkeeping"
            )
