"""The deploy lock against what the cluster and kubectl can do to it: a value cdgen did not
write (malformed, huge, holding a newline or a workflow command), a kubectl cut short after
the server applied its write, one that hangs, a release that fails, a read lost while
waiting. None of them blocks deploys for good or changes a run's result."""

from __future__ import annotations

import time

import pytest
from support.sandbox import image
from support.smoke_server import SmokeServer

from cdgen.deploy.kubectl import CommandResult, run_process
from cdgen.deploy.lock import ANNOTATION

from .conftest import Deploy, Sandbox
from .inprocess import run_engine
from .lock_test import drop_lock, expiry, held_by


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "someone; expires tomorrow",
        "; expires 2099-01-01T00:00:00Z",  # no holder
        "x" * 100_000,
        "line one\n::error title=pwned::owned",
    ],
    ids=["garbage", "no-time", "no-holder", "huge", "newline"],
)
def test_a_value_cdgen_did_not_write_does_not_block(
    deploy: Deploy, sandbox: Sandbox, value: str
) -> None:
    sandbox.set_lock(value)
    result = deploy("--image", image("v2"), "--lock-wait", "0s")
    assert result.code == 0, result.log[:2000]
    (warning,) = [line for line in result.log.splitlines() if "Unreadable deploy lock" in line]
    assert warning.startswith(
        "::warning title=Unreadable deploy lock::the deploy lock annotation of deployment/api "
        "is not one cdgen writes ("
    )
    assert len(warning) < 400  # shown shortened
    assert not any(line.startswith("::error title=pwned") for line in result.log.splitlines())
    assert sandbox.lock() is None  # replaced by this run's lock, then freed


def test_a_hostile_holder_is_shown_short_and_escaped(deploy: Deploy, sandbox: Sandbox) -> None:
    holder = "evil\n::error title=pwned::owned\r" + "y" * 100_000
    sandbox.set_lock(held_by(holder))
    result = deploy("--image", image("v2"), "--lock-wait", "0s")
    assert result.code == 1
    lines = result.log.splitlines()
    assert not any(line.startswith("::error title=pwned") for line in lines)
    assert max(len(line) for line in lines) < 1000
    assert len(result.summary) < 3000
    assert "held by evil%0A::error title=pwned::owned%0Dyyy" in result.log
    assert "y…" in result.summary
    assert sandbox.lock() == held_by(holder)


def test_a_lock_written_by_a_kubectl_cut_short_is_still_freed(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    def cut_short(args: list[str]) -> CommandResult | None:
        if args[0] == "annotate" and args[2].startswith(f"{ANNOTATION}="):
            run_process(["kubectl", *args], 60)  # the API server applied the write, then
            return CommandResult(tuple(args), 124, "kubectl did not finish within 60s")
        return None

    run = run_engine(server, hook=cut_short, image=image("v2"))
    assert (run.outcome.result, run.code) == ("failed", 1)
    assert run.outcome.reason == "cannot take the deploy lock of deployment/api"
    assert "kubectl did not finish within 60s" in run.log
    assert [args[0] for args in run.commands] == ["get", "annotate", "get", "annotate"]
    assert sandbox.lock() is None  # it was this run's: freed
    assert sandbox.image() == image("v1")


def test_kubectl_hanging_on_the_lock_write_stops_the_deploy(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    sandbox.update(delays={"annotate": 30})

    def short(args: list[str]) -> CommandResult | None:
        if args[0] == "annotate":  # the engine allows 60s; the same cut, after 1s
            return run_process(["kubectl", *args], 1.0)
        return None

    started = time.monotonic()
    run = run_engine(server, hook=short, image=image("v2"))
    assert time.monotonic() - started < 8  # cut after 1s, not the 30s the simulator would take
    assert (run.outcome.result, run.code) == ("failed", 1)
    assert "kubectl did not finish within 1s" in run.log
    assert "nothing was changed" in run.log
    assert sandbox.lock() is None and sandbox.mutating_calls() == []


def test_a_release_that_fails_leaves_the_result_and_says_when_the_lock_expires(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    def hang(args: list[str]) -> CommandResult | None:
        if args[0] == "annotate" and args[2] == f"{ANNOTATION}-":
            return CommandResult(tuple(args), 124, "kubectl did not finish within 60s")
        return None

    run = run_engine(server, hook=hang, image=image("v2"))
    assert (run.outcome.result, run.code) == ("deployed", 0)
    until = expiry(sandbox.lock()).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert (
        "::warning title=Deploy lock not freed::the deploy lock of deployment/api may not have "
        f"been freed (kubectl exit 124); it expires on its own at {until}"
    ) in run.log


def test_a_failed_read_while_waiting_is_tried_again(sandbox: Sandbox, server: SmokeServer) -> None:
    sandbox.set_lock(held_by())
    gets: list[list[str]] = []

    def lost_once(args: list[str]) -> CommandResult | None:
        if args[0] == "get":
            gets.append(args)
            if len(gets) == 2:
                return CommandResult(tuple(args), 1, "Unable to connect to the server: EOF")
        return None

    def holder_finishes(pause: int) -> None:
        if pause == 2:
            drop_lock(sandbox)

    run = run_engine(server, hook=lost_once, on_sleep=holder_finishes, image=image("v2"))
    assert run.outcome.result == "deployed", run.log
    expected = "cannot read deployment/api in namespace staging: trying again while waiting"
    assert expected in run.log
