"""What became of a deployment, read from its statuses (README, "Definitions").

- *successful*: any status is ``success``; its time is the first such status's.
- *failed*: no ``success``, a ``failure`` or ``error``, and an ``in_progress`` before the
  first of those; its time is that first ``failure`` or ``error``.
- anything else is ignored: queued, pending or in progress only, or rejected or cancelled
  at an approval gate before it ran.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

FAILED_STATES = ("failure", "error")


@dataclass(frozen=True)
class StatusRecord:
    id: int
    state: str
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    deployment_id: int
    sha: str
    succeeded: bool  # False: failed
    time: datetime


def classify(deployment_id: int, sha: str, statuses: Iterable[StatusRecord]) -> Outcome | None:
    """The deployment's outcome, or None when it is ignored."""
    # GitHub lists statuses newest first; ids break ties between equal timestamps.
    ordered = sorted(statuses, key=lambda s: (s.created_at, s.id))
    success = next((s for s in ordered if s.state == "success"), None)
    if success is not None:
        return Outcome(deployment_id, sha, True, success.created_at)
    for index, status in enumerate(ordered):
        if status.state in FAILED_STATES:
            ran = any(earlier.state == "in_progress" for earlier in ordered[:index])
            return Outcome(deployment_id, sha, False, status.created_at) if ran else None
    return None
