"""Deploy → verify → roll back, as one sequence of phases.

The engine never prints or exits: it logs through a Console and returns an Outcome. Once
``set image`` may have run, every way out (a failed check, an exception, a cancellation)
ends in the undo path, or in the loud degraded report when the undo cannot be done.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from cdgen.deploy.bookkeeping import Bookkeeping
from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.console import Console
from cdgen.deploy.kubeconfig import mask_words, secret_values
from cdgen.deploy.kubectl import Kubectl, KubectlError, Target
from cdgen.deploy.lock import DeploymentLock
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import SKIPPED, SUCCESS, Outcome
from cdgen.deploy.preflight import FAIL, Where, check_deployment
from cdgen.deploy.records import Records
from cdgen.deploy.smoke import Probe, probe_url

Step = Callable[[], bool]


class Engine(Bookkeeping):
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
    ) -> None:
        self.options = options
        self.records = records
        self.kubectl = kubectl
        self.console = console
        self.probe = probe
        self.sleep = sleep
        self.target = Target(options.namespace, options.deployment, options.container)
        self.revision = ""
        self.document: dict[str, object] = {}
        # False: the cluster is as it was read; None: set image ran, whether it took is
        # unknown; True: the new image was set.
        self.changed: bool | None = False
        self.recovering = False
        self.undo_issued = False
        kubectl.announce = self._announce
        self.outcome = Outcome(
            options.mode,
            options.environment,
            options.image,
            commit_time=options.commit_time,
            only_if_live=options.only_if_live,
        )
        self.lock = DeploymentLock(
            kubectl,
            self.target,
            console,
            holder=f"{holder} ({options.mode} {options.image})",
            hold_seconds=self._worst_case_seconds(),
            wait_seconds=options.lock_wait,
            sleep=sleep,
        )
        # The phases in order; each returns False to stop. A new phase is one more entry.
        self.steps: list[Step] = [
            self._read_kubeconfig,
            self._take_lock,
            self._read_current,
            self._still_live,
            self._preflight,
            self._open_record,
            self._set_image,
            self._rollout,
            self._smoke_test,
        ]
        if options.mode == "verify":  # look only: no lock, no record, no change
            self.steps = [
                self._read_kubeconfig,
                self._read_current,
                self._is_live,
                self._smoke_test,
            ]

    def _worst_case_seconds(self) -> int:
        """How long this run can hold the lock: a rollout and its undo, every smoke attempt."""
        options = self.options
        smoke = (1 + options.smoke_retries) * (options.smoke_interval + options.smoke_timeout)
        return 2 * options.rollout_timeout + smoke + 120

    def _announce(self, command: list[str]) -> None:
        self.console.info("$ " + " ".join(command))

    def run(self) -> Outcome:
        try:
            try:
                try:
                    self._deploy()
                except Exception as error:
                    self.on_error(error)
            except (Cancelled, KeyboardInterrupt) as stop:
                self.on_cancel(stop.signum if isinstance(stop, Cancelled) else signal.SIGINT)
        finally:
            self.outcome.finished_at = datetime.now(timezone.utc)  # noqa: UP017 - Python 3.9
            self._finish()
        return self.outcome

    def _deploy(self) -> None:
        for step in self.steps:
            if not step():
                if self.changed is not False:
                    self.undo()
                return
        options = self.options
        self.outcome.result = SUCCESS[options.mode]
        self.outcome.deployed_image = options.image
        title = {"deploy": "Deployed", "rollback": "Rolled back"}.get(options.mode, "Verified")
        self.console.notice(f"{options.image} is live in {options.environment}", title)

    def _is_live(self) -> bool:
        """mode verify: the image given is the one the container runs."""
        live, wanted = self.outcome.previous_image, self.options.image
        with self._phase("Check live image") as phase:
            phase.ok = live == wanted
            phase.detail = f"{live} is live"
        if not phase.ok:
            return self._stop_unchanged(f"{live} is live, not {wanted}", live, "Not verified")
        return True

    def _read_kubeconfig(self) -> bool:
        """Mask the secrets of a kubeconfig given as content before kubectl can echo them."""
        if not self.options.kubeconfig:
            return True
        with self._phase("Read kubeconfig") as phase:
            try:
                values = secret_values(self.kubectl.config_view())
            except KubectlError as error:
                self.console.external(mask_words(error.result.output, self.options.kubeconfig))
                phase.detail = str(error)
                return self._stop_unchanged(str(error), "")
            self.console.add_secrets(values)
            phase.ok, phase.detail = True, f"{len(values)} secret value(s) masked"
        return True

    def _read_current(self) -> bool:
        with (
            self._phase("Read current image") as phase,
            self.console.group("Read the current image"),
        ):
            try:
                state = self.kubectl.read_state(self.target)
            except KubectlError as error:
                self._show(error.result)
                phase.detail = str(error)
                return self._stop_unchanged(str(error), "")
            self.outcome.previous_image = state.image
            self.revision, self.document = state.revision, state.document
            self.console.info(
                f"{self.target.resource} container {self.target.container}: {state.image}"
            )
            self.console.info(f"revision: {state.revision or 'unknown'}")
            phase.ok, phase.detail = True, state.image
        return True

    def _still_live(self) -> bool:
        """False, with the result ``skipped``, when only-if-live names an image that is no
        longer live: a newer deploy replaced it, and undoing that is not this run's call."""
        expected = self.options.only_if_live
        if not expected:
            return True
        live = self.outcome.previous_image
        with self._phase("Check live image") as phase:
            phase.ok = True
            if live == expected:
                phase.detail = f"{expected} is live"
                return True
            phase.detail = f"{live} is live, not {expected}"
        outcome = self.outcome
        outcome.result = SKIPPED
        outcome.deployed_image = live
        outcome.reason = f"{live} replaced {expected}: the environment was left as is"
        self.console.notice(
            f"The environment {self.options.environment} now runs {live}, which replaced "
            f"{expected}, so it is left as is",
            "Skipped: the image is no longer live",
        )
        return False

    def _preflight(self) -> bool:
        where = Where(self.target.namespace, self.options.deployment)
        with self._phase("Preflight") as phase:
            findings = check_deployment(self.document, where)
            self.outcome.findings = findings
            for finding in findings:
                text = f"{finding.message}. Fix: {finding.fix}"
                if finding.level == FAIL:
                    self.console.error(text, "Preflight failed")
                else:
                    self.console.warning(text, "Preflight")
            failed = [finding.message for finding in findings if finding.level == FAIL]
            phase.ok = not failed
            warned = f"{len(findings)} warning(s)" if findings else "no problems"
            phase.detail = "; ".join(failed) or warned
        if failed:
            return self._stop_unchanged(
                "preflight: " + "; ".join(failed), self.outcome.previous_image
            )
        return True

    def _set_image(self) -> bool:
        self.changed = None  # from here on the cluster may differ from what was read
        with self._phase("Set image") as phase:
            with self.console.group(f"Set image {self.options.image}"):
                result = self.kubectl.set_image(self.target, self.options.image)
                self._show(result)
            phase.ok = result.ok
            phase.detail = self.options.image if result.ok else f"kubectl exit {result.returncode}"
        if result.ok:
            self.changed = True
            return True
        self.outcome.reason = f"kubectl set image failed (exit {result.returncode})"
        self.look_after_error()
        return False

    def _rollout(self) -> bool:
        return self.wait_rollout("Rollout")

    def _smoke_test(self) -> bool:
        options = self.options
        if not options.smoke_url:
            self.outcome.smoke_skipped = True
            self.console.notice(
                "smoke-url is empty: the deploy is not smoke-tested", "No smoke test"
            )
            return True
        attempts = self._run_smoke(options.smoke_url)
        last = attempts[-1]
        if not last.ok:
            reason = f"the smoke test failed {len(attempts)} time(s): {last.detail}"
            if options.mode == "verify":  # it only looks: nothing to roll back
                return self._stop_unchanged(reason, self.outcome.previous_image, "Not verified")
            self.outcome.reason = reason
            self.console.error(f"{reason}; rolling back", "Smoke test failed")
        return last.ok


def build_engine(options: Options, kubectl: Kubectl, console: Console, **kwargs: Any) -> Engine:
    """The engine of the options' strategy: a rolling update, or a canary release first."""
    if options.canary is not None:
        from cdgen.deploy.canary import CanaryEngine  # it builds on this module

        return CanaryEngine(options, kubectl, console, **kwargs)
    kwargs.pop("time_scale", None)
    return Engine(options, kubectl, console, **kwargs)
