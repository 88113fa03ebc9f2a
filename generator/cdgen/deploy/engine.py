"""Deploy → verify → roll back, as one sequence of phases.

The engine never prints or exits: it logs through a Console and returns an Outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from cdgen.deploy.console import Console
from cdgen.deploy.kubectl import CommandResult, Kubectl, KubectlError, Target, manual_commands
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK, SKIPPED, Outcome, Phase
from cdgen.deploy.smoke import Probe, SmokeAttempt, SmokeCheck, probe_url, run_smoke


class Engine:
    def __init__(
        self,
        options: Options,
        kubectl: Kubectl,
        console: Console,
        probe: Probe = probe_url,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self.kubectl = kubectl
        self.console = console
        self.probe = probe
        self.sleep = sleep
        self.target = Target(options.namespace, options.deployment, options.container)
        self.revision = ""
        kubectl.announce = self._announce
        self.outcome = Outcome(
            options.mode,
            options.environment,
            options.image,
            commit_time=options.commit_time,
            only_if_live=options.only_if_live,
        )

    def _phase(self, name: str, started: float, ok: bool, detail: str) -> bool:
        self.outcome.phases.append(Phase(name, time.monotonic() - started, ok, detail))
        return ok

    def _announce(self, command: list[str]) -> None:
        self.console.info("$ " + " ".join(command))

    def _show(self, result: CommandResult) -> None:
        self.console.external(result.output)

    def run(self) -> Outcome:
        try:
            self._deploy()
        except (KeyboardInterrupt, SystemExit):
            # Cancelled or timed out (SIGINT/SIGTERM): say what state the cluster may be in.
            self._interrupted()
            raise
        finally:
            self.outcome.finished_at = datetime.now(timezone.utc)  # noqa: UP017 - Python 3.9
        return self.outcome

    def _interrupted(self) -> None:
        outcome = self.outcome
        outcome.reason = "interrupted (cancelled or timed out)"
        outcome.result = FAILED
        if not any(phase.name == "Set image" and phase.ok for phase in outcome.phases):
            self.console.error("interrupted before the image was set; nothing was changed")
            return
        outcome.deployed_image = ""
        self._degraded()

    def _deploy(self) -> None:
        if not self._read_current() or not self._still_live() or not self._set_image():
            return
        verified = self._wait_rollout("Rollout") and self._smoke_test()
        if verified:
            self.outcome.result = DEPLOYED if self.options.mode == "deploy" else ROLLED_BACK
            self.outcome.deployed_image = self.options.image
            self.console.notice(
                f"{self.options.image} is live in {self.options.environment}", self._title()
            )
            return
        self._undo()

    def _title(self) -> str:
        return "Deployed" if self.options.mode == "deploy" else "Rolled back"

    def _read_current(self) -> bool:
        started = time.monotonic()
        with self.console.group("Read the current image"):
            try:
                state = self.kubectl.read_state(self.target)
            except KubectlError as error:
                self._show(error.result)
                self.outcome.reason = str(error)
                self.console.error(f"{error}; nothing was changed")
                return self._phase("Read current image", started, False, str(error))
            self.outcome.previous_image = state.image
            self.console.info(
                f"{self.target.resource} container {self.target.container}: {state.image}"
            )
            self.console.info(f"revision: {state.revision or 'unknown'}")
        self.revision = state.revision
        return self._phase("Read current image", started, True, state.image)

    def _still_live(self) -> bool:
        """False, with the result ``skipped``, when only-if-live names an image that is no
        longer live: a newer deploy replaced it, and undoing that is not this run's call."""
        expected = self.options.only_if_live
        if not expected:
            return True
        started = time.monotonic()
        live = self.outcome.previous_image
        if live == expected:
            return self._phase("Check live image", started, True, f"{expected} is live")
        outcome = self.outcome
        outcome.result = SKIPPED
        outcome.deployed_image = live
        outcome.reason = f"{live} replaced {expected}: the environment was left as is"
        self.console.notice(
            f"The environment {self.options.environment} now runs {live}, which replaced "
            f"{expected}, so it is left as is",
            "Skipped: the image is no longer live",
        )
        self._phase("Check live image", started, True, f"{live} is live, not {expected}")
        return False

    def _set_image(self) -> bool:
        started = time.monotonic()
        with self.console.group(f"Set image {self.options.image}"):
            result = self.kubectl.set_image(self.target, self.options.image)
            self._show(result)
        if not result.ok:
            self.outcome.reason = f"kubectl set image failed (exit {result.returncode})"
            self.console.error(f"{self.outcome.reason}; the previous image is still in place")
            self.outcome.deployed_image = self.outcome.previous_image
        detail = self.options.image if result.ok else f"kubectl exit {result.returncode}"
        return self._phase("Set image", started, result.ok, detail)

    def _wait_rollout(self, phase: str) -> bool:
        started = time.monotonic()
        timeout = self.options.rollout_timeout
        with self.console.group(f"{phase}: wait up to {timeout}s for the rollout"):
            result = self.kubectl.rollout_status(self.target, timeout)
            self._show(result)
        if not result.ok and phase == "Rollout":
            self.outcome.reason = f"the rollout did not complete within {timeout}s"
            self.console.error(f"{self.outcome.reason}; rolling back", "Rollout failed")
        detail = "complete" if result.ok else f"not complete (exit {result.returncode})"
        return self._phase(phase, started, result.ok, detail)

    def _smoke_test(self) -> bool:
        options = self.options
        if not options.smoke_url:
            self.outcome.smoke_skipped = True
            self.console.notice(
                "smoke-url is empty: the deploy is not smoke-tested", "No smoke test"
            )
            return True
        check = SmokeCheck(
            options.smoke_url,
            options.smoke_retries,
            options.smoke_interval,
            options.smoke_timeout,
            options.expect_version,
        )
        started = time.monotonic()
        with self.console.group(f"Smoke test {options.smoke_url}"):
            attempts = run_smoke(check, self._record_attempt, self.probe, self.sleep)
        passed = attempts[-1].ok
        if not passed:
            self.outcome.reason = (
                f"the smoke test failed {len(attempts)} time(s): {attempts[-1].detail}"
            )
            self.console.error(f"{self.outcome.reason}; rolling back", "Smoke test failed")
        return self._phase("Smoke test", started, passed, attempts[-1].detail)

    def _record_attempt(self, attempt: SmokeAttempt) -> None:
        self.outcome.smoke.append((attempt.number, attempt.ok, attempt.detail, attempt.seconds))
        verdict = "pass" if attempt.ok else "fail"
        self.console.info(
            f"attempt {attempt.number}: {verdict}: {attempt.detail} ({attempt.seconds:.2f}s)"
        )

    def _undo(self) -> None:
        started = time.monotonic()
        with self.console.group(f"Roll back to {self.outcome.previous_image}"):
            result = self.kubectl.rollout_undo(self.target, self.revision)
            self._show(result)
        self._phase(
            "Roll back",
            started,
            result.ok,
            "undone" if result.ok else f"kubectl exit {result.returncode}",
        )
        if result.ok and self._wait_rollout("Rollback rollout"):
            self.outcome.result = ROLLED_BACK if self.options.mode == "deploy" else FAILED
            self.outcome.deployed_image = self.outcome.previous_image
            self.console.error(
                f"{self.options.image} was rolled back: {self.outcome.reason}", "Rolled back"
            )
            return
        self._degraded()

    def _degraded(self) -> None:
        outcome = self.outcome
        outcome.result = FAILED
        outcome.degraded = True
        outcome.manual_commands = manual_commands(
            self.target, self.revision, self.options.rollout_timeout
        )
        self.console.error(
            f"The automatic rollback of {self.target.resource} in namespace "
            f"{self.target.namespace} FAILED after: {outcome.reason}. "
            f"The environment {self.options.environment} may be degraded. "
            "Run by hand, with the cluster's kubeconfig: " + " && ".join(outcome.manual_commands),
            "ROLLBACK FAILED: environment may be degraded",
        )
