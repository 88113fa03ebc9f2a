"""What every engine does alike, whatever it deploys to: time each phase into the outcome,
and open the GitHub deployment record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.options import Options
from cdgen.deploy.outcome import Outcome, Phase
from cdgen.deploy.records import Records


@dataclass
class PhaseRecord:
    ok: bool = False
    detail: str = ""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Phases:
    """Times each phase of a run into ``outcome.phases``; opens the deployment record."""

    options: Options
    outcome: Outcome
    records: Records | None

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
