"""Deploys and rollbacks of one Deployment take turns: a lock held in an annotation of the
Deployment itself, so it works for every caller (the pipeline's deploy jobs, rollback.yml,
hand-written workflows, a laptop) with no other shared state and no new permission (writing
an annotation is the `patch` the deploy needs anyway).

Taking the lock is a compare-and-set: the annotation is written with the resourceVersion it
was read at, and the API server refuses the write (Conflict) when anyone changed the object
in between. The lock names its holder and an expiry, the holder's own worst case, so a runner
that died holding it blocks the next deploy only until then. Metadata annotations do not
change the Pod template: writing one starts no rollout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cdgen.deploy.console import Console
from cdgen.deploy.kubectl import DeploymentState, Kubectl, KubectlError, Target

ANNOTATION = "cdgen.dev/deploy-lock"
POLL_SECONDS = 5.0
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+


@dataclass(frozen=True)
class Holding:
    holder: str
    expires: datetime

    def text(self) -> str:
        return f"{self.holder}; expires {self.expires.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def parse_holding(value: str) -> Holding | None:
    """The lock an annotation value describes; None for anything malformed (treated as free:
    a lock nobody can read must not block deploys forever)."""
    holder, sep, expiry = value.rpartition("; expires ")
    if not sep:
        return None
    try:
        expires = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_UTC)
    except ValueError:
        return None
    return Holding(holder, expires)


class LockTimeout(Exception):
    """Another deploy held the lock for longer than this one would wait."""


class DeploymentLock:
    def __init__(
        self,
        kubectl: Kubectl,
        target: Target,
        console: Console,
        *,
        holder: str,
        hold_seconds: int,
        wait_seconds: int,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(_UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kubectl, self.target, self.console = kubectl, target, console
        self.holder, self.hold_seconds, self.wait_seconds = holder, hold_seconds, wait_seconds
        self._sleep, self._now, self._monotonic = sleep, now, monotonic
        self.held: Holding | None = None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait_seconds`` for another holder. Raises
        LockTimeout, or KubectlError when kubectl fails."""
        deadline = self._monotonic() + self.wait_seconds
        announced = ""
        while True:
            state = self.kubectl.read_state(self.target)
            other = self._other_holder(state)
            if other is None:
                mine = Holding(self.holder, self._now() + timedelta(seconds=self.hold_seconds))
                result = self.kubectl.annotate(
                    self.target, ANNOTATION, mine.text(), state.resource_version
                )
                if result.ok:
                    self.held = mine
                    return
                if "Conflict" not in result.output:
                    raise KubectlError(
                        f"cannot take the deploy lock of {self.target.resource}", result
                    )
                continue  # someone wrote first: read again
            if self._monotonic() >= deadline:
                raise LockTimeout(
                    f"{other.holder} has held the deploy lock of {self.target.resource} for "
                    f"longer than {self.wait_seconds}s (until {other.expires:%H:%M:%S} UTC at "
                    "the latest)"
                )
            if other.text() != announced:
                announced = other.text()
                self.console.info(f"waiting for the deploy lock, held by {announced}")
            self._sleep(min(POLL_SECONDS, max(0.0, deadline - self._monotonic())))

    def _other_holder(self, state: DeploymentState) -> Holding | None:
        value = state.annotation(ANNOTATION)
        holding = parse_holding(value) if value else None
        if holding is None:
            return None
        if holding.expires <= self._now():
            self.console.warning(
                f"the deploy lock of {self.target.resource} held by {holding.holder} expired "
                f"at {holding.expires:%Y-%m-%d %H:%M:%S} UTC; taking it over",
                "Expired deploy lock",
            )
            return None
        return holding

    def release(self, *, urgent: bool = False) -> bool:
        """Remove the lock if it is still this run's; never raises (it expires on its own)."""
        if self.held is None:
            return True
        try:
            for _ in range(3):
                state = self.kubectl.read_state(self.target, urgent=urgent)
                if state.annotation(ANNOTATION) != self.held.text():
                    self.held = None
                    return True  # taken over (after expiring) or removed: not ours to remove
                result = self.kubectl.annotate(
                    self.target, ANNOTATION, None, state.resource_version, urgent=urgent
                )
                if result.ok:
                    self.held = None
                    return True
                if "Conflict" not in result.output:
                    break
        except Exception as error:
            self.console.warning(f"the deploy lock was not released: {error}", "Deploy lock")
            return False
        self.console.warning(
            f"the deploy lock of {self.target.resource} was not released; it expires at "
            f"{self.held.expires:%H:%M:%S} UTC",
            "Deploy lock",
        )
        return False
