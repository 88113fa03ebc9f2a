"""Whatever happens after ``set image``, an unverified image is never left live quietly.

The engine runs in-process against the kubectl simulator and a live smoke server, with a
fault injected at every call it makes after ``set image`` (each kubectl command before and
after it runs, each smoke request, each pause, each line of log): the run must end rolled
back, or in the loud degraded report, and its outcome must say what is live.
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

from .conftest import NAMESPACE, Sandbox


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

    def point(self, where: str) -> None:
        if not self.armed:
            return
        self.calls += 1
        self.seen.add("log" if where.startswith("log") else where)
        if self.calls == self.at:
            self.where = where
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
    outcome = engine.run()
    return Run(outcome, log.getvalue(), faults.where, faults.calls, faults.seen)


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
    outcomes = set()
    for at in range(1, clean.calls + 1):
        sandbox.save(json.loads(json.dumps(fresh)))
        run = run_engine(server, target, Faults(at, partial(InjectedFault, f"injected #{at}")))
        assert run.where, f"no fault injected at call {at}"
        assert_truthful(run, sandbox, target)
        outcomes.add((run.outcome.result, run.outcome.degraded))
    assert outcomes == expected


def test_a_cancellation_at_every_step_after_set_image_undoes_at_once(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    fresh = default_state([NAMESPACE])
    target = image("broken")
    clean = run_engine(server, target, Faults(10**6, InjectedFault))
    for at in range(1, clean.calls + 1):
        sandbox.save(json.loads(json.dumps(fresh)))
        run = run_engine(server, target, Faults(at, lambda: Cancelled(signal.SIGTERM)))
        outcome, context = run.outcome, f"cancelled at {run.where}:\n{run.log}"
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


def test_unknown_state_without_a_revision_is_not_guessed(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    """set image errs, the live image cannot be read, no revision was recorded: a plain undo
    could revert an earlier deploy, so the engine reports loudly instead."""
    calls: list[list[str]] = []

    def runner(args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
        calls.append(args)
        if args[1:3] == ["set", "image"]:
            return CommandResult(tuple(args), 1, "Unable to connect to the server: EOF")
        if len(calls) > 1:
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
        ["set", "image"],
        ["get", "deployment/api"],
    ]
    assert "NOT ROLLED BACK" in log.getvalue()
    assert "No automatic rollback was possible: nothing was undone." in render_summary(outcome)
    assert "without a recorded revision" in outcome.reason


def test_an_error_before_set_image_changes_nothing(sandbox: Sandbox, server: SmokeServer) -> None:
    def probe(check: SmokeCheck) -> tuple[bool, str]:
        raise AssertionError("not reached")

    def runner(args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
        raise InjectedFault("kubectl vanished")

    options = parse_options({"image": image("v2"), "namespace": NAMESPACE, "deployment": "api"})
    log = io.StringIO()
    outcome = Engine(options, Kubectl(runner=runner), Console(log, github=True), probe).run()
    assert (outcome.result, outcome.degraded) == ("failed", False)
    assert outcome.crash == "InjectedFault: kubectl vanished"
    assert exit_status(outcome) == 3
    assert "nothing was changed" in log.getvalue()
    assert "| Read current image | " in render_summary(outcome)
    assert sandbox.mutating_calls() == []
