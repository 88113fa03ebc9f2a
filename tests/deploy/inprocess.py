"""The engine run in-process against the simulator, with a hand on each kubectl command and
each pause: for what a command-line run cannot stage (a holder that finishes while this
run waits, a kubectl cut short after the server applied its write, a slow GitHub)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from support.smoke_server import SmokeServer

from cdgen.deploy.cli import exit_status
from cdgen.deploy.console import Console
from cdgen.deploy.engine import Engine
from cdgen.deploy.kubectl import CommandResult, Kubectl, run_process
from cdgen.deploy.options import parse_options
from cdgen.deploy.outcome import Outcome
from cdgen.deploy.records import Records
from cdgen.deploy.summary import render_summary

from .conftest import NAMESPACE

# Called with each command line; a result answers instead of kubectl, None runs kubectl.
Hook = Callable[[list[str]], "CommandResult | None"]


@dataclass
class EngineRun:
    outcome: Outcome
    log: str
    sleeps: list[float]
    commands: list[list[str]]
    summary: str = field(init=False)
    code: int = field(init=False)

    def __post_init__(self) -> None:
        self.summary = render_summary(self.outcome)
        self.code = exit_status(self.outcome)


def run_engine(
    server: SmokeServer,
    *,
    hook: Hook | None = None,
    on_sleep: Callable[[int], None] | None = None,
    records: Records | None = None,
    holder: str = "test run",
    given: dict[str, str] | None = None,
    **inputs: str,
) -> EngineRun:
    """Deploy with the fixtures' fast defaults; ``given`` and ``inputs`` by name, with '_'
    for '-' in ``inputs``.
    Pauses are not slept: each is recorded, then ``on_sleep`` gets its number (1, 2, …)."""
    commands: list[list[str]] = []
    sleeps: list[float] = []

    def runner(args: list[str], timeout: float, *, detach: bool = False) -> CommandResult:
        commands.append(args[1:])
        answer = hook(args[1:]) if hook is not None else None
        return answer if answer is not None else run_process(args, timeout, detach=detach)

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep(len(sleeps))

    raw = {
        "namespace": NAMESPACE,
        "deployment": "api",
        "rollout-timeout": "1s",
        "smoke-url": f"{server.url}/{NAMESPACE}/api",
        "smoke-retries": "0",
        "smoke-interval": "0s",
        "smoke-timeout": "1s",
        **(given or {}),
        **{name.replace("_", "-"): value for name, value in inputs.items()},
    }
    log = io.StringIO()
    engine = Engine(
        parse_options(raw),
        Kubectl(runner=runner),
        Console(log, github=True),
        sleep=sleep,
        records=records,
        holder=holder,
    )
    outcome = engine.run()
    return EngineRun(outcome, log.getvalue(), sleeps, commands)
