"""What surrounds a run without being part of the deploy: the deploy lock, taken before the
first read and freed at the end, and the GitHub deployment record, opened just before
``set image`` and closed with the run's result. Neither may change that result."""

from __future__ import annotations

import contextlib

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.kubectl import KubectlError
from cdgen.deploy.lock import DeploymentLock, LockTimeout
from cdgen.deploy.outcome import SUCCESS
from cdgen.deploy.phases import describe
from cdgen.deploy.recording import closing
from cdgen.deploy.records import Records
from cdgen.deploy.recovery import Recovery


class Bookkeeping(Recovery):
    records: Records | None
    lock: DeploymentLock

    def _finish(self) -> None:
        """Close the record, then free the lock. The run's result stands whatever happens here:
        a record not written is a warning, and a lock not freed expires on its own (release
        never raises, and says when)."""
        urgent = bool(self.outcome.signal)
        try:
            self._close_record()
        except (Cancelled, KeyboardInterrupt, Exception) as error:
            urgent = urgent or not isinstance(error, Exception)
            with contextlib.suppress(Exception):
                self.console.warning(
                    f"stopped while closing the deployment record ({describe(error)})",
                    "Deployment record",
                )
        self.lock.release(urgent=urgent)

    def _take_lock(self) -> bool:
        """Wait for any other cdgen deploy or rollback of this Deployment to end."""
        with self._phase("Take the deploy lock") as phase:
            try:
                self.lock.acquire()
            except (KubectlError, LockTimeout) as error:
                if isinstance(error, KubectlError):
                    self._show(error.result)
                phase.detail = str(error)
                return self._stop_unchanged(str(error), self.outcome.previous_image)
            phase.ok, phase.detail = True, "held until the run ends"
        return True

    def _open_record(self) -> bool:
        """The GitHub deployment record, opened just before anything changes."""
        self._open_record_of(self.options.image)
        return True

    def _close_record(self) -> None:
        """Give the record its final state, or leave it open for the tests that follow."""
        outcome, records = self.outcome, self.records
        if records is None:
            return
        if outcome.deployment_id is None:  # an opening cut short after GitHub made the record
            outcome.deployment_id = records.opened
        ident = outcome.deployment_id
        if ident is None:
            return
        if self.options.recording.keep_open and outcome.result == SUCCESS[outcome.mode]:
            outcome.record = f"deployment {ident}: in progress until the end-to-end tests end"
            return
        state, description = closing(outcome, changed=self.changed is not False)
        if outcome.signal:
            records.budget = 3.0  # the runner kills a cancelled job a few seconds later
        closed = records.close(ident, state, description)
        outcome.record = f"deployment {ident}: {state}" + ("" if closed else " (not written)")
