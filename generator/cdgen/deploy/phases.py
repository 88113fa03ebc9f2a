"""What every engine does alike, whatever it deploys to: time each phase into the outcome,
open the GitHub deployment record, run the smoke test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.console import Console
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import Outcome, Phase
from cdgen.deploy.records import Records
from cdgen.deploy.smoke import Probe, SmokeAttempt, SmokeCheck, run_smoke


@dataclass
class PhaseRecord:
    ok: bool = False
    detail: str = ""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Phases:
    """Times each phase of a run into ``outcome.phases``; opens the deployment record; runs
    the smoke test."""

    options: Options
    console: Console
    outcome: Outcome
    records: Records | None
    probe: Probe
    sleep: Callable[[float], None]

    @contextmanager
    def _phase(self, name: str) -> Iterator[PhaseRecord]:
        """Record the phase whatever happens in it, so the summary's table is never empty."""
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
            elapsed = time.monotonic() - started
            self.outcome.phases.append(Phase(name, elapsed, record.ok, record.detail))

    def _open_record_of(self, what: str) -> None:
        """Open the GitHub deployment record of ``what`` (an image, a site's deployment)."""
        if self.records is None:
            return
        with self._phase("Open the deployment record") as phase:
            mode = self.options.mode
            verb = "deploy of" if mode == "deploy" else "rollback to"
            # A rollback's record is task rollback: it ran no tests, and passed nothing on.
            self.outcome.deployment_id = self.records.open(what, f"cdgen {verb} {what}", mode)
            phase.ok = True  # bookkeeping: a record that cannot be written is a warning
            found = self.outcome.deployment_id
            phase.detail = f"deployment {found}" if found else "not recorded (see the warning)"

    def _run_smoke(self, url: str, headers: tuple[tuple[str, str], ...] = ()) -> list[SmokeAttempt]:
        """The smoke test of ``url`` as its phase; every attempt is logged and kept."""
        options = self.options
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
        return attempts

    def _record_attempt(self, attempt: SmokeAttempt) -> None:
        self.outcome.smoke.append((attempt.number, attempt.ok, attempt.detail, attempt.seconds))
        verdict = "pass" if attempt.ok else "fail"
        self.console.info(
            f"attempt {attempt.number}: {verdict}: {attempt.detail} ({attempt.seconds:.2f}s)"
        )
