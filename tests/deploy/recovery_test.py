"""Whatever happens after ``set image``, an unverified image is never left live quietly.

The engine runs in-process against the kubectl simulator and a live smoke server, with a
fault injected at every call it makes after ``set image`` (each kubectl command before and
after it runs, each smoke request, each pause, each line of log): the run must end rolled
back, or in the loud degraded report, and its outcome must say what is live. The last of
those calls free the deploy lock: a fault there leaves the run's result as it was, and a
warning says when the lock expires on its own.
"""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import pytest
from support.sandbox import GOOD, default_state, image
from support.smoke_server import SmokeServer

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.cli import exit_status
from cdgen.deploy.console import Console
from cdgen.deploy.engine import Engine
from cdgen.deploy.kubectl import CommandResult, Kubectl, run_process
from cdgen.deploy.options import parse_options
from cdgen.deploy.outcome import Outcome
from cdgen.deploy.smoke import SmokeCheck, probe_url
from cdgen.deploy.summary import render_summary

from .conftest import NAMESPACE, Sandbox, workload


class InjectedFault(Exception):
    pass


@dataclass
class Faults:
    """Raise ``make()`` at the ``at``-th call counted from the first ``set image``."""

    at: int
    make: Callable[[], BaseException]
    armed: bool = False
    calls: int = 0
    where: str = ""
    seen: set[str] = field(default_factory=set)
    releasing: bool = False  # the engine is freeing the deploy lock: the run is over
    in_release: bool = False  # the fault came then

    def point(self, where: str) -> None:
        if not self.armed:
            return
        self.calls += 1
        self.seen.add("log" if where.startswith("log") else where)
        if self.calls == self.at:
            self.where = where
            self.in_release = self.releasing
            raise self.make()


class FaultyLog(io.StringIO):
    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def write(self, text: str) -> int:
        self.faults.point(f"log {text[:40]!r}")
        return super().write(text)


@dataclass
class Run:
    outcome: Outcome
    log: str
    where: str
    calls: int
    seen: set[str]
    in_release: bool = False
    summary: str = field(init=False)

    def __post_init__(self) -> None:
        self.summary = render_summary(self.outcome)


def run_engine(server: SmokeServer, target: str, faults: Faults) -> Run:
    def runner(args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
        if args[1:3] == ["set", "image"]:
            faults.armed = True
        faults.point(f"before {' '.join(args[1:3])}")
        result = run_process(args, timeout, detach=detach)
        faults.point(f"after {' '.join(args[1:3])}")
        return result

    def probe(check: SmokeCheck) -> tuple[bool, str]:
        faults.point("before a smoke request")
        answer = probe_url(check)
        faults.point("after a smoke request")
        return answer

    def sleep(seconds: float) -> None:
        faults.point("a pause between smoke attempts")

    options = parse_options(
        {
            "image": target,
            "namespace": NAMESPACE,
            "deployment": "api",
            "rollout-timeout": "1s",
            "smoke-url": f"{server.url}/{NAMESPACE}/api",
            "smoke-retries": "1",
            "smoke-interval": "0s",
            "smoke-timeout": "1s",
        }
    )
    log = FaultyLog(faults)
    engine = Engine(options, Kubectl(runner=runner), Console(log, github=True), probe, sleep)
    release = engine.lock.release

    def releasing(*, urgent: bool = False) -> bool:
        faults.releasing = True
        return release(urgent=urgent)

    engine.lock.release = releasing  # type: ignore[method-assign]
    outcome = engine.run()
    run = Run(outcome, log.getvalue(), faults.where, faults.calls, faults.seen, faults.in_release)
    assert faults.releasing, run.log  # the lock is freed after every run, whatever happened
    return run


def assert_result_stands(run: Run, clean: Run, sandbox: Sandbox) -> None:
    """A fault while freeing the lock: the run was over, its result is kept as it was, and
    a lock left behind is announced with the time it expires on its own."""
    outcome, context = run.outcome, f"fault at {run.where}:\n{run.log}"
    assert outcome.result == clean.outcome.result, context
    assert outcome.deployed_image == clean.outcome.deployed_image == sandbox.image(), context
    assert (outcome.degraded, outcome.crash, outcome.signal) == (False, "", 0), context
    assert exit_status(outcome) == exit_status(clean.outcome), context
    assert run.summary.split("### Phases")[0] == clean.summary.split("### Phases")[0], context
    warnings = [line for line in run.log.splitlines() if "title=Deploy lock not freed" in line]
    if sandbox.lock() is not None:
        (warning,) = warnings
        expires = sandbox.lock().rpartition("; expires ")[2].partition("; for ")[0]  # type: ignore[union-attr]
        until = expires.replace("T", " ").replace("Z", " UTC")
        assert f"it expires on its own at {until}" in warning, context


def assert_truthful(run: Run, sandbox: Sandbox, target: str) -> None:
    """Rolled back with the previous image live, or loudly degraded; never quiet."""
    outcome, context = run.outcome, f"fault at {run.where}:\n{run.log}"
    assert outcome.previous_image == GOOD, context
    assert "| Set image |" in run.summary, context
    if outcome.degraded:
        assert outcome.result == "failed", context
        assert outcome.deployed_image == "", context
        first = outcome.manual_commands[0]
        applied = outcome.note.startswith("The previous image is back in the Deployment")
        assert first.startswith("kubectl rollout " + ("status" if applied else "undo")), context
        assert "environment may be degraded" in run.log, context
        assert "[!CAUTION]" in run.summary, context
        return
    if outcome.result == "deployed":  # a failed smoke request, then a verified retry
        assert "probe failed: InjectedFault" in run.log, context
        assert outcome.smoke[-1][1] and not outcome.crash, context
        assert sandbox.image() == target == outcome.deployed_image, context
        return
    assert outcome.result == "rolled-back", context
    assert sandbox.image() == GOOD == outcome.deployed_image, context
    assert outcome.crash or "smoke test failed" in outcome.reason, context
    assert "nothing new went live" in run.summary, context
    assert exit_status(outcome) == (3 if outcome.crash else 1), context


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # A fault anywhere rolls back, unless it only failed a smoke request that a retry passed.
        (image("v2"), {("rolled-back", False), ("deployed", False)}),
        # Already on the way back: a fault in the undo path leaves it degraded, and loud.
        (image("broken"), {("rolled-back", False), ("failed", True)}),
    ],
    ids=["healthy", "broken"],
)
def test_an_error_at_every_step_after_set_image_ends_rolled_back_or_loud(
    sandbox: Sandbox, server: SmokeServer, target: str, expected: set[tuple[str, bool]]
) -> None:
    fresh = default_state([NAMESPACE])
    clean = run_engine(server, target, Faults(10**6, InjectedFault))
    assert {"log", "after set image", "before rollout status", "before a smoke request"} <= (
        clean.seen
    )
    # The lock's release.
    assert {"before annotate deployment/api", "after annotate deployment/api"} <= clean.seen
    outcomes, released = set(), 0
    for at in range(1, clean.calls + 1):
        sandbox.save(json.loads(json.dumps(fresh)))
        run = run_engine(server, target, Faults(at, partial(InjectedFault, f"injected #{at}")))
        assert run.where, f"no fault injected at call {at}"
        if run.in_release:
            assert_result_stands(run, clean, sandbox)
            released += 1
            continue
        assert_truthful(run, sandbox, target)
        assert sandbox.lock() is None, run.log  # freed, whatever the run went through
        outcomes.add((run.outcome.result, run.outcome.degraded))
    assert outcomes == expected
    assert released >= 4  # before and after its get and its annotate at least


def test_a_cancellation_at_every_step_after_set_image_undoes_at_once(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    fresh = default_state([NAMESPACE])
    target = image("broken")
    clean = run_engine(server, target, Faults(10**6, InjectedFault))
    released = 0
    for at in range(1, clean.calls + 1):
        sandbox.save(json.loads(json.dumps(fresh)))
        run = run_engine(server, target, Faults(at, lambda: Cancelled(signal.SIGTERM)))
        outcome, context = run.outcome, f"cancelled at {run.where}:\n{run.log}"
        if run.in_release:  # the rollback was over: cancelling its bookkeeping changes nothing
            assert_result_stands(run, clean, sandbox)
            released += 1
            continue
        assert outcome.signal == signal.SIGTERM, context
        assert exit_status(outcome) == 143, context
        assert outcome.result == "failed", context
        assert outcome.previous_image == GOOD, context
        assert sandbox.image() == GOOD, context  # the simulator applies an undo at once
        assert outcome.deployed_image == "", context  # its rollout was not waited for
        assert "Cancelled by SIGTERM" in run.summary, context
        assert "ROLLBACK FAILED" not in run.log, context
        names = {phase.name: phase for phase in outcome.phases}
        issued = "Roll back (cancelled)" in names and names["Roll back (cancelled)"].ok
        assert issued or outcome.note.startswith("kubectl rollout undo had been"), context
        # The lock is freed at once too, with the short time limits of a cancelled run.
        assert sandbox.lock() is None, context
        assert run.log.count("annotate deployment/api cdgen.dev/deploy-lock- ") == 1, context
        assert "cdgen.dev/deploy-lock- --overwrite --resource-version=" in run.log, context
        assert (
            run.log.rstrip()
            .splitlines()[-1]
            .endswith(f"--request-timeout=2s --namespace={NAMESPACE}")
        ), context
    assert released >= 4


def test_unknown_state_without_a_revision_is_not_guessed(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    """set image errs, the live image cannot be read, no revision was recorded: a plain undo
    could revert an earlier deploy, so the engine reports loudly instead."""
    calls: list[list[str]] = []

    def runner(args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
        calls.append(args)
        if len(calls) <= 2:  # the deploy lock is taken
            return run_process(args, timeout, detach=detach)
        if len(calls) > 3:  # then the server is lost
            return CommandResult(tuple(args), 1, "Unable to connect to the server: EOF")
        result = run_process(args, timeout)
        document = json.loads(result.stdout)
        document["metadata"]["annotations"] = {}
        return CommandResult(result.args, 0, "", json.dumps(document))

    options = parse_options({"image": image("v2"), "namespace": NAMESPACE, "deployment": "api"})
    log = io.StringIO()
    outcome = Engine(options, Kubectl(runner=runner), Console(log, github=True)).run()
    assert outcome.degraded
    assert [args[1:3] for args in calls] == [
        ["get", "deployment/api"],
        ["annotate", "deployment/api"],
        ["get", "deployment/api"],
        ["set", "image"],
        ["get", "deployment/api"],
        ["get", "deployment/api"],  # freeing the lock: the server is still gone
    ]
    assert "NOT ROLLED BACK" in log.getvalue()
    assert "No automatic rollback was possible: nothing was undone." in render_summary(outcome)
    assert "without a recorded revision" in outcome.reason
    assert sandbox.lock() is not None
    freed = "may not have been freed (cannot read deployment/api in namespace staging: Unable to"
    assert freed in log.getvalue()


class FailAt:
    """A kubectl runner that raises at its ``at``-th call and runs every other one."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def __call__(self, args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
        self.calls += 1
        if self.calls == self.at:
            raise InjectedFault("kubectl vanished")
        return run_process(args, timeout, detach=detach)


@pytest.mark.parametrize(
    ("at", "phase"),
    [(1, "Take the deploy lock"), (2, "Take the deploy lock"), (3, "Read current image")],
    ids=["lock-read", "lock-write", "read-current"],
)
def test_an_error_before_set_image_changes_nothing(
    sandbox: Sandbox, server: SmokeServer, at: int, phase: str
) -> None:
    def probe(check: SmokeCheck) -> tuple[bool, str]:
        raise AssertionError("not reached")

    before = workload(sandbox.deployment())
    options = parse_options({"image": image("v2"), "namespace": NAMESPACE, "deployment": "api"})
    log = io.StringIO()
    outcome = Engine(options, Kubectl(runner=FailAt(at)), Console(log, github=True), probe).run()
    assert (outcome.result, outcome.degraded) == ("failed", False)
    assert outcome.crash == "InjectedFault: kubectl vanished"
    assert exit_status(outcome) == 3
    assert "nothing was changed" in log.getvalue()
    (row,) = [line for line in render_summary(outcome).splitlines() if f"| {phase} |" in line]
    assert row.endswith("| ❌ error: InjectedFault: kubectl vanished |")
    assert sandbox.mutating_calls() == []
    assert workload(sandbox.deployment()) == before  # a lock taken is freed again
