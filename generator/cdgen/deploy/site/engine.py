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
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.console import Console
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import SKIPPED, SUCCESS, Outcome
from cdgen.deploy.phases import PhaseRecord
from cdgen.deploy.records import Records
from cdgen.deploy.site.provider import Deployment, Provider, ProviderError
from cdgen.deploy.site.recovery import SiteRecovery
from cdgen.deploy.smoke import Probe, probe_url


class SiteEngine(SiteRecovery):
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

    # --- the change ----------------------------------------------------------------------

    def _deploy(self) -> bool:
        image = self.options.image
        if image:  # Vercel: a deployment made before, tested again or promoted
            self._open_record_of(image)
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
        self._open_record_of(self.new.ident)  # after the upload: only it tells the name
        return self._took(self.new.ident, "the new deployment")

    def _rollback(self) -> bool:
        image = self.options.image
        self._open_record_of(image)
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
        attempts = self._run_smoke(url, headers)
        last = attempts[-1]
        if not last.ok:
            self.outcome.reason = f"the smoke test failed {len(attempts)} time(s): {last.detail}"
            self.console.error(self.outcome.reason, "Smoke test failed")
        return last.ok
