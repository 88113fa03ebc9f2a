"""Deploys and rollbacks of one Deployment take turns: a lock held in an annotation of the
Deployment itself, so it works for every caller (the pipeline's deploy jobs, rollback.yml,
hand-written workflows, a laptop) with no other shared state and no new permission (writing
an annotation is the `patch` the deploy needs anyway).

Taking the lock is a compare-and-set: the annotation is written with the resourceVersion it
was read at, and the API server refuses the write (Conflict) when anyone changed the object
in between. The lock names its holder and how long it may hold it (its own worst case), so a
runner that died holding it blocks the next deploy only that long. That duration is a lease
timed by each waiting run's own clock, from when it first saw that lock: runners' clocks need
not agree (a laptop's may be minutes off). The expiry in the value is the holder's estimate,
shown to people. Metadata annotations do not change the Pod template: writing one starts no
rollout.

The annotation's value comes from the cluster, so from anyone with `patch`: it is only ever
shown shortened and escaped, and a value cdgen did not write does not block a deploy.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.console import Console
from cdgen.deploy.kubectl import CommandResult, DeploymentState, Kubectl, KubectlError, Target

ANNOTATION = "cdgen.dev/deploy-lock"
POLL_SECONDS = 5.0
# Conflicts in a row that are retried whatever the deadline: a Conflict means someone else
# wrote the Deployment (a controller, another deploy), not that the lock is held.
FREE_CONFLICTS = 5
MAX_SHOWN = 200
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+


@dataclass(frozen=True)
class Holding:
    holder: str
    expires: datetime  # by the holder's clock: for people to read
    seconds: int  # the lease: how long the holder may keep it, timed by whoever waits

    def text(self) -> str:
        return f"{self.holder}; expires {self.expires.strftime(_FORMAT)}; for {self.seconds}s"

    @property
    def shown(self) -> str:
        """The holder, short enough for a log line or a table cell."""
        return shorten(self.holder)

    @property
    def until(self) -> str:
        return f"{self.expires:%Y-%m-%d %H:%M:%S} UTC"


def shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def parse_holding(value: str) -> Holding | None:
    """The lock an annotation value describes; None for anything malformed (treated as free:
    a lock nobody can read must not block deploys forever)."""
    rest, sep, lease = value.rpartition("; for ")
    if not sep or not lease.endswith("s") or not lease[:-1].isdigit() or len(lease) > 8:
        return None
    holder, sep, expiry = rest.rpartition("; expires ")
    if not sep or not holder.strip():
        return None
    try:
        expires = datetime.strptime(expiry, _FORMAT).replace(tzinfo=_UTC)
    except ValueError:
        return None
    return Holding(holder, expires, int(lease[:-1]))


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
        # The lock this run wrote or may have written (a kubectl cut short after the server
        # applied its write): release() removes it only if the annotation still says so.
        self.held: Holding | None = None
        self.confirmed = False  # the write was acknowledged: the lock was this run's
        self._told: set[str] = set()
        # When this run first saw each lock value (its own monotonic clock): the lease runs
        # from there. A new value (a new holder, or the same one taken again) starts anew.
        self._seen: dict[str, float] = {}

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait_seconds`` for another holder. Raises
        LockTimeout, or KubectlError when kubectl fails."""
        deadline = self._monotonic() + self.wait_seconds
        conflicts, read = 0, False
        while True:
            state = self._read(waiting=read, deadline=deadline)
            read = read or state is not None
            other = self._other_holder(state) if state is not None else None
            if state is not None and other is None:
                if self._try_take(state):
                    return
                conflicts += 1
                if conflicts >= FREE_CONFLICTS and self._monotonic() >= deadline:
                    raise LockTimeout(
                        f"{self.target.resource} kept changing: {conflicts} writes of its deploy "
                        f"lock in a row were refused (Conflict) within {self.wait_seconds}s"
                    )
                if conflicts > 1:  # the first is retried at once, then ever more slowly
                    self._sleep(min(POLL_SECONDS, 0.5 * conflicts))
                continue
            conflicts = 0
            if other is not None and self._monotonic() >= deadline:
                raise LockTimeout(self._timeout_reason(other))
            if other is not None and other.text() not in self._told:
                self._told.add(other.text())
                self.console.info(
                    f"waiting up to {self.wait_seconds}s for the deploy lock of "
                    f"{self.target.resource}, held by {other.shown} until {other.until}"
                )
            self._sleep(min(POLL_SECONDS, max(0.0, deadline - self._monotonic())))

    def _read(self, *, waiting: bool, deadline: float) -> DeploymentState | None:
        """The Deployment; None when a read failed while waiting (tried again at the next
        poll: one lost answer in a long wait must not end the deploy)."""
        try:
            return self.kubectl.read_state(self.target)
        except KubectlError as error:
            if not waiting or self._monotonic() >= deadline:
                raise
            self.console.info(f"{error}: trying again while waiting for the deploy lock")
            return None

    def _try_take(self, state: DeploymentState) -> bool:
        """Write the lock at the resourceVersion read; False on a Conflict (try again)."""
        expires = self._now() + timedelta(seconds=self.hold_seconds)
        mine = Holding(self.holder, expires, self.hold_seconds)
        self.held = mine
        result = self.kubectl.annotate(self.target, ANNOTATION, mine.text(), state.resource_version)
        if result.ok:
            self.confirmed = True
            return True
        if _conflict(result):
            self.held = None  # refused: the write did not happen
            return False
        raise KubectlError(f"cannot take the deploy lock of {self.target.resource}", result)

    def _timeout_reason(self, other: Holding) -> str:
        free = f"kubectl annotate {self.target.resource} {ANNOTATION}- "
        free += f"--namespace={self.target.namespace}"
        return (
            f"the deploy lock of {self.target.resource} is held by {other.shown} until "
            f"{other.until}, and this run waits at most {self.wait_seconds}s (lock-wait). If "
            f"that run is over, free the lock by hand: {free}"
        )

    def _other_holder(self, state: DeploymentState) -> Holding | None:
        value = state.annotation(ANNOTATION)
        if not value:
            return None
        holding = parse_holding(value)
        if holding is None:
            self._tell_once(
                f"the deploy lock annotation of {self.target.resource} is not one cdgen "
                f"writes ({shorten(value)!r}); taking it over",
                "Unreadable deploy lock",
            )
            return None
        first = self._seen.setdefault(value, self._monotonic())
        if self._monotonic() - first >= holding.seconds:
            self._tell_once(
                f"the deploy lock of {self.target.resource} held by {holding.shown} has not "
                f"changed for its whole lease ({holding.seconds}s, since this run first saw "
                f"it; its holder expected it to end at {holding.until}); taking it over",
                "Expired deploy lock",
            )
            return None
        return holding

    def _tell_once(self, text: str, title: str) -> None:
        if text not in self._told:
            self._told.add(text)
            self.console.warning(text, title)

    def release(self, *, urgent: bool = False) -> bool:
        """Remove the lock if it is still this run's. Never raises: a lock not removed
        expires on its own, and a warning says when."""
        held = self.held
        if held is None:
            return True
        try:
            problem = self._remove(held, urgent)
        except (Exception, Cancelled, KeyboardInterrupt) as error:
            problem = _describe(error)
        if not problem:
            self.held = None
            return True
        with contextlib.suppress(Exception):
            self.console.warning(
                f"the deploy lock of {self.target.resource} may not have been freed "
                f"({problem}); it expires on its own at {held.until}",
                "Deploy lock not freed",
            )
        return False

    def _remove(self, held: Holding, urgent: bool) -> str:
        """Remove ``held`` if the annotation still shows it; what went wrong, or ""."""
        result = CommandResult((), 1, "")
        for _ in range(3):
            state = self.kubectl.read_state(self.target, urgent=urgent)
            value = state.annotation(ANNOTATION) or ""
            if value != held.text():
                if value and self.confirmed:
                    self._taken_over(held, value)
                return ""  # removed by hand, or never written: not this run's to remove
            result = self.kubectl.annotate(
                self.target, ANNOTATION, None, state.resource_version, urgent=urgent
            )
            if result.ok:
                return ""
            if not _conflict(result):
                break
        return f"kubectl exit {result.returncode}"

    def _taken_over(self, held: Holding, value: str) -> None:
        """This run outlived its own lock, and another run took it: say so, leave it."""
        other = parse_holding(value)
        who = other.shown if other is not None else repr(shorten(value))
        with contextlib.suppress(Exception):
            self.console.warning(
                f"the deploy lock of {self.target.resource} expired at {held.until} while this "
                f"run still held it, and {who} took it: their deploy may have overlapped "
                "this one. Their lock is left in place",
                "Deploy lock taken over",
            )


def _describe(error: BaseException) -> str:
    if isinstance(error, KubectlError):  # what kubectl said, not only what was asked of it
        said = error.result.output.strip().splitlines()
        return f"{error}: {shorten(said[0])}" if said else str(error)
    return f"{type(error).__name__}: {error}"


def _conflict(result: CommandResult) -> bool:
    return "(Conflict)" in result.output
