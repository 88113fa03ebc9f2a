"""Deploy → verify → roll back for a static site, as one sequence of phases.

What production serves is read before anything changes; the change (an upload, a promotion,
a rollback) is checked to have taken; the smoke test decides; and whatever ends the run
after the change — a failed check, an exception, a cancellation — switches production back
to what it served before, or ends in a loud report with the command to run by hand. A
deployment no domain serves (Vercel's before promotion, Cloudflare's previews) has nothing to
switch back to: its failure stops the pipeline, and the report says so.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone

from cdgen.deploy.cancel import Cancelled, signal_name
from cdgen.deploy.console import Console
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import FAILED, ROLLED_BACK, SKIPPED, SUCCESS, Outcome, Phase
from cdgen.deploy.recording import closing
from cdgen.deploy.records import Records
from cdgen.deploy.recovery import PhaseRecord, describe
from cdgen.deploy.site.provider import Deployment, Provider, ProviderError
from cdgen.deploy.smoke import Probe, SmokeAttempt, SmokeCheck, probe_url, run_smoke


class SiteEngine:
    def __init__(
        self,
        options: Options,
        provider: Provider,
        console: Console,
        *,
        records: Records | None = None,
        manual: Callable[[str], str] = lambda ident: "",
        probe: Probe = probe_url,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self.provider = provider
        self.console = console
        self.records = records
        self.manual = manual  # the command that switches production to a deployment by hand
        self.probe = probe
        self.sleep = sleep
        self.previous: Deployment | None = None
        self.new: Deployment | None = None
        # False: production is as it was read; None: a switch ran, whether it took is unknown;
        # True: the new deployment is what production (or the branch) serves.
        self.changed: bool | None = False
        self.recovering = False
        self.outcome = Outcome(
            options.mode,
            options.environment,
            options.image,
            commit_time=options.commit_time,
            only_if_live=options.only_if_live,
            kind="deployment",
        )

    # --- the run -------------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            try:
                try:
                    self._steps()
                except Exception as error:
                    self._on_error(error)
            except (Cancelled, KeyboardInterrupt) as stop:
                self._on_cancel(stop.signum if isinstance(stop, Cancelled) else signal.SIGINT)
        finally:
            self.outcome.finished_at = datetime.now(timezone.utc)  # noqa: UP017 - Python 3.9
            self._close_record()
        return self.outcome

    def _steps(self) -> None:
        mode = self.options.mode
        if not self._prepare() or not self._read_live():
            return
        if mode == "verify":
            if self._is_live() and self._smoke_test():
                self._succeed()
            return
        if mode == "rollback" and not self._still_live():
            return
        changed = self._rollback() if mode == "rollback" else self._deploy()
        if changed and self._smoke_test():
            self._succeed()
        elif not self.provider.switchable and self.new is not None:
            self._nothing_to_undo()
        elif self.changed is not False:
            self._undo()

    def _succeed(self) -> None:
        outcome, new = self.outcome, self.new
        outcome.result = SUCCESS[self.options.mode]
        outcome.deployed_image = new.ident if new else self.options.image
        title = {"deploy": "Deployed", "rollback": "Rolled back"}.get(outcome.mode, "Verified")
        where = f" at {new.url}" if new and new.url and new.url != new.ident else ""
        self.console.notice(
            f"{outcome.deployed_image} is live{where} in {outcome.environment}", title
        )

    @contextmanager
    def _phase(self, name: str) -> Iterator[PhaseRecord]:
        record = PhaseRecord()
        started = time.monotonic()
        try:
            yield record
        except BaseException as error:
            record.ok = False
            stopped = isinstance(error, (Cancelled, KeyboardInterrupt))
            record.detail = "interrupted" if stopped else f"error: {describe(error)}"
            raise
        finally:
            self.outcome.phases.append(
                Phase(name, time.monotonic() - started, record.ok, record.detail)
            )

    def _refused(self, error: ProviderError, phase: PhaseRecord) -> bool:
        """A provider's no before anything changed: show what it said, stop unchanged."""
        self.console.external(error.output)
        phase.detail = str(error)
        self.outcome.reason = str(error)
        self.outcome.deployed_image = self.previous.ident if self.previous else ""
        self.console.error(f"{error}; nothing was changed")
        return False

    # --- before any change ---------------------------------------------------------------

    def _prepare(self) -> bool:
        site = self.options.site
        with self._phase("Prepare") as phase:
            try:
                self.provider.prepare()
            except ProviderError as error:
                return self._refused(error, phase)
            phase.ok = True
            phase.detail = site.cli if site else "ready"
        if self.options.mode == "rollback" and not self.provider.switchable:
            self.outcome.reason = (
                "only a production deployment can be rolled back (a preview has nothing to "
                "return to)"
            )
            self.console.error(f"{self.outcome.reason}; nothing was changed")
            return False
        return True

    def _read_live(self) -> bool:
        if not self.provider.switchable and self.options.mode != "verify":
            return True
        with self._phase("Read live deployment") as phase:
            try:
                self.previous = self.provider.live()
            except ProviderError as error:
                return self._refused(error, phase)
            phase.ok = True
            phase.detail = self.previous.ident if self.previous else "none yet"
        self.outcome.previous_image = self.previous.ident if self.previous else ""
        return True

    def _is_live(self) -> bool:
        """mode verify: the deployment given is the one served (where that can be read)."""
        wanted, live = self.options.image, self.previous
        self.new = Deployment(wanted, live.url if live and live.is_named(wanted) else wanted)
        if (
            live is None
            and not self.provider.switchable
            and self.options.site
            and self.options.site.vercel
        ):
            return True  # a deployment no domain serves: its own URL is what is tested
        with self._phase("Check live deployment") as phase:
            phase.ok = live is not None and live.is_named(wanted)
            phase.detail = f"{live.ident if live else 'nothing'} is live"
        if not phase.ok:
            shown = live.ident if live else "no deployment"
            self.outcome.reason = f"{shown} is live, not {wanted}"
            self.outcome.deployed_image = live.ident if live else ""
            self.console.error(f"{self.outcome.reason}; nothing was changed")
        return phase.ok

    def _still_live(self) -> bool:
        """only-if-live: a newer deploy replaced it, and undoing that is not this run's call."""
        expected, live = self.options.only_if_live, self.previous
        if not expected or (live is not None and live.is_named(expected)):
            return True
        shown = live.ident if live else "no deployment"
        outcome = self.outcome
        outcome.result, outcome.deployed_image = SKIPPED, shown
        outcome.reason = f"{shown} replaced {expected}: the environment was left as is"
        self.console.notice(
            f"The environment {outcome.environment} now serves {shown}, which replaced "
            f"{expected}, so it is left as is",
            "Skipped: the deployment is no longer live",
        )
        return False

    def _open_record(self, what: str) -> None:
        """The GitHub deployment record, named after the deployment it is about: opened just
        before a switch, or just after an upload (whose name only the upload tells)."""
        if self.records is None:
            return
        with self._phase("Open the deployment record") as phase:
            verb = "deploy of" if self.options.mode == "deploy" else "rollback to"
            self.outcome.deployment_id = self.records.open(what, f"cdgen {verb} {what}")
            phase.ok = True  # bookkeeping: a record that cannot be written is a warning
            found = self.outcome.deployment_id
            phase.detail = f"deployment {found}" if found else "not recorded (see the warning)"

    # --- the change ----------------------------------------------------------------------

    def _deploy(self) -> bool:
        image = self.options.image
        if image:  # Vercel: a deployment made before, tested again or promoted
            self._open_record(image)
            self.new = Deployment(image, image)
            if not self.provider.switchable:
                return True  # no domain serves it: only the smoke test is left
            with self._phase("Promote") as phase:
                self.changed = None
                self.provider.promote(image)
                phase.ok, phase.detail = True, f"{image} requested"
            return self._took(image, image)
        with self._phase("Deploy") as phase:
            self.changed = None if self.provider.switchable else False
            self.new = self.provider.deploy(self.options.recording.commit)
            phase.ok, phase.detail = True, self.new.ident
        self.outcome.image = self.new.ident
        self._record_url(self.new.url)
        self._open_record(self.new.ident)
        return self._took(self.new.ident, "the new deployment")

    def _rollback(self) -> bool:
        image = self.options.image
        self._open_record(image)
        if self.previous is not None and self.previous.is_named(image):
            self.new = self.previous
            return True  # already served: only the smoke test is left
        with self._phase("Roll back") as phase:
            self.changed = None
            self.provider.rollback(image)
            phase.ok, phase.detail = True, f"{image} requested"
        self.new = Deployment(image, image)
        return self._took(image, image)

    def _took(self, wanted: str, what: str) -> bool:
        """After a switch: read what is served, rather than trust the exit status."""
        if not self.provider.switchable:
            return True
        with self._phase("Check live deployment") as phase:
            live = self.provider.live()
            phase.ok = live is not None and live.is_named(wanted)
            phase.detail = f"{live.ident if live else 'nothing'} is live"
        if phase.ok and live is not None:
            self.changed = True
            self.new = Deployment(wanted, live.url or wanted)
            return True
        # Ours did not go live. Whatever is live (the previous deployment, or one another
        # run switched to) is left as it is; only "nothing at all" is worth a switch back.
        self.changed = None if live is None and self.previous is not None else False
        shown = live.ident if live else "nothing"
        self.outcome.reason = f"{what} did not go live: {shown} is live, left as it is"
        self.outcome.deployed_image = live.ident if live else ""
        self.console.error(self.outcome.reason, "Switch not taken")
        return False

    def _record_url(self, url: str) -> None:
        """A deployment no domain serves is shown on its record by its own URL."""
        if self.records is not None and url:
            self.records.target = replace(self.records.target, environment_url=url)

    # --- verification --------------------------------------------------------------------

    def _smoke_test(self) -> bool:
        options = self.options
        url = options.smoke_url
        if url.startswith("/"):  # a path on the deployment's own URL
            url = ((self.new.url if self.new else "") or options.image).rstrip("/") + url
        if not url:
            self.outcome.smoke_skipped = True
            self.console.notice(
                "smoke-url is empty: the deploy is not smoke-tested", "No smoke test"
            )
            return True
        site = options.site
        headers = (("x-vercel-protection-bypass", site.bypass),) if site and site.bypass else ()
        check = SmokeCheck(
            url,
            options.smoke_retries,
            options.smoke_interval,
            options.smoke_timeout,
            options.expect_version,
            headers,
        )
        with self._phase("Smoke test") as phase:
            with self.console.group(f"Smoke test {url}"):
                attempts = run_smoke(check, self._record_attempt, self.probe, self.sleep)
            phase.ok, phase.detail = attempts[-1].ok, attempts[-1].detail
        if not phase.ok:
            self.outcome.reason = (
                f"the smoke test failed {len(attempts)} time(s): {attempts[-1].detail}"
            )
            self.console.error(self.outcome.reason, "Smoke test failed")
        return phase.ok

    def _record_attempt(self, attempt: SmokeAttempt) -> None:
        self.outcome.smoke.append((attempt.number, attempt.ok, attempt.detail, attempt.seconds))
        verdict = "pass" if attempt.ok else "fail"
        self.console.info(
            f"attempt {attempt.number}: {verdict}: {attempt.detail} ({attempt.seconds:.2f}s)"
        )

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
            self.console.error(
                f"{outcome.reason}. {outcome.note} Check it: "
                + " && ".join(outcome.manual_commands),
                "Cancelled: rollback requested, not verified",
            )

    def _close_record(self) -> None:
        ident, outcome = self.outcome.deployment_id, self.outcome
        if self.records is None or ident is None:
            return
        try:
            if self.options.recording.keep_open and outcome.result == SUCCESS[outcome.mode]:
                outcome.record = f"deployment {ident}: in progress until the end-to-end tests end"
                return
            state, description = closing(outcome)
            if outcome.signal:
                self.records.budget = 3.0
            closed = self.records.close(ident, state, description)
            outcome.record = f"deployment {ident}: {state}" + ("" if closed else " (not written)")
        except (Cancelled, KeyboardInterrupt, Exception) as error:
            self.console.warning(
                f"stopped while closing the deployment record ({describe(error)})", "Bookkeeping"
            )
