"""The deploy lock: deploys and rollbacks of one Deployment take turns through an annotation
on it, taken by compare-and-set, waited for up to lock-wait, freed at the end only if still
this run's, and never able to block deploys for good (its lease ends, timed by the waiting
run's own clock; a value cdgen did not write does not count)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from support.sandbox import image
from support.smoke_server import SmokeServer

from cdgen.deploy.lock import ANNOTATION

from .conftest import Deploy, Sandbox, workload
from .inprocess import run_engine

FAR = "2099-01-01T00:00:00Z"
OTHER = f"https://github.com/acme/api/actions/runs/7/attempts/1 (deploy {image('v9')})"
FREE_BY_HAND = "kubectl annotate deployment/api cdgen.dev/deploy-lock- --namespace=staging"


def held_by(holder: str = OTHER, expires: str = FAR, lease: int = 3600) -> str:
    return f"{holder}; expires {expires}; for {lease}s"


def expiry(value: str | None) -> datetime:
    assert value is not None
    text = value.rpartition("; expires ")[2].partition("; for ")[0]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def drop_lock(sandbox: Sandbox) -> None:
    state = sandbox.state()
    del state["deployments"]["staging/api"]["annotations"][ANNOTATION]
    sandbox.save(state)


def test_the_lock_is_held_while_the_image_changes(sandbox: Sandbox, server: SmokeServer) -> None:
    seen: dict[str, str | None] = {}

    def look(args: list[str]) -> None:
        seen[" ".join(args[:2])] = sandbox.lock()

    run = run_engine(server, hook=look, holder="alice (laptop)", image=image("v2"))
    assert run.outcome.result == "deployed", run.log
    assert seen["set image"] == seen["rollout status"] == seen["get deployment/api"]
    assert seen["set image"] is not None
    assert seen["set image"].rpartition("; expires ")[0] == f"alice (laptop) (deploy {image('v2')})"
    assert sandbox.lock() is None
    (row,) = [line for line in run.summary.splitlines() if "| Take the deploy lock |" in line]
    assert row.endswith("| ✅ held until the run ends |")


@pytest.mark.parametrize(
    ("timing", "seconds"),
    [
        ({"rollout-timeout": "1s", "smoke-retries": "0", "smoke-timeout": "1s"}, 2 + 1 + 120),
        # The defaults: two rollouts of 5m (the deploy's and its undo's), six smoke attempts.
        ({"rollout-timeout": "5m", "smoke-retries": "5", "smoke-interval": "10s"}, 840),
    ],
)
def test_the_lock_expires_after_the_runs_worst_case(
    sandbox: Sandbox, server: SmokeServer, timing: dict[str, str], seconds: int
) -> None:
    taken: list[datetime] = []

    def clock(args: list[str]) -> None:
        taken.append(datetime.now(UTC))

    run = run_engine(
        server, hook=clock, given={"smoke-timeout": "10s", **timing}, image=image("v2")
    )
    assert run.outcome.result == "deployed", run.log
    assert run.commands[1][0] == "annotate"
    held = expiry(run.commands[1][2]) - taken[1].replace(microsecond=0)
    assert timedelta(seconds=seconds - 1) <= held <= timedelta(seconds=seconds)
    assert run.commands[1][2].endswith(f"; for {seconds}s")  # the lease others time


def test_a_second_run_waits_for_the_holder_then_goes_on(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    sandbox.set_lock(held_by())

    def holder_finishes(pause: int) -> None:
        if pause == 2:
            drop_lock(sandbox)

    run = run_engine(server, on_sleep=holder_finishes, image=image("v2"))
    assert run.outcome.result == "deployed", run.log
    assert run.sleeps == [5.0, 5.0]  # polled every 5s
    assert [args[0] for args in run.commands[:4]] == ["get", "get", "get", "annotate"]
    waiting = (
        "waiting up to 900s for the deploy lock of deployment/api, held by "
        f"{OTHER} until 2099-01-01 00:00:00 UTC"
    )
    assert run.log.count(waiting) == 1  # said once per holder, not at every poll
    assert sandbox.lock() is None


def test_a_lock_held_past_lock_wait_stops_the_deploy_with_nothing_changed(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    sandbox.set_lock(held_by())
    before = workload(sandbox.deployment())
    started = time.monotonic()
    result = deploy("--image", image("v2"), "--lock-wait", "2s")
    assert 2 <= time.monotonic() - started < 8  # waited lock-wait, then gave up
    assert result.code == 1
    assert result.outputs == {
        "result": "failed",
        "previous-image": "",
        "deployed-image": "",
        "deployment-id": "",
    }
    assert sandbox.verbs() == ["get", "get"]  # looked twice, wrote nothing
    assert workload(sandbox.deployment()) == before  # their lock too
    reason = (
        f"the deploy lock of deployment/api is held by {OTHER} until 2099-01-01 00:00:00 UTC, "
        f"and this run waits at most 2s (lock-wait). If that run is over, free the lock by "
        f"hand: {FREE_BY_HAND}"
    )
    assert f"::error title=Deploy failed::{reason}; nothing was changed" in result.log
    assert f"| Reason | {reason} |" in result.summary
    assert "| Take the deploy lock | " in result.summary


def test_a_lock_unchanged_for_its_whole_lease_is_taken_over_with_a_warning(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    """Its holder died: after watching it unchanged for its lease (1s here), by its own
    clock, the waiting run takes it over."""
    sandbox.set_lock(held_by(expires=FAR, lease=1))
    result = deploy("--image", image("v2"), "--lock-wait", "30s")
    assert result.code == 0, result.log
    assert (
        f"::warning title=Expired deploy lock::the deploy lock of deployment/api held by "
        f"{OTHER} has not changed for its whole lease (1s, since this run first saw it; its "
        "holder expected it to end at 2099-01-01 00:00:00 UTC); taking it over"
    ) in result.log
    assert sandbox.verbs()[:4] == ["get", "get", "annotate", "get"]  # looked, waited, took
    assert sandbox.lock() is None


def test_a_holder_with_a_slow_clock_still_excludes_others(deploy: Deploy, sandbox: Sandbox) -> None:
    """A laptop whose clock is an hour behind writes an expiry already past by everyone
    else's clock: its lease still holds, because each waiting run times the lease itself."""
    sandbox.set_lock(held_by(expires="2020-01-01T00:00:00Z", lease=3600))
    result = deploy("--image", image("v2"), "--lock-wait", "2s")
    assert result.code == 1
    assert "Expired deploy lock" not in result.log
    assert "annotate" not in sandbox.verbs()
    assert sandbox.lock() == held_by(expires="2020-01-01T00:00:00Z", lease=3600)


def test_a_conflict_is_read_again_and_retried(deploy: Deploy, sandbox: Sandbox) -> None:
    sandbox.update(conflict_annotate=2)  # someone wrote the Deployment just before, twice
    result = deploy("--image", image("v2"))
    assert result.code == 0, result.log
    assert sandbox.verbs()[:7] == ["get", "annotate"] * 3 + ["get"]
    assert sandbox.state()["conflict_annotate"] == 0
    assert sandbox.lock() is None


def test_a_deployment_that_keeps_changing_ends_the_wait(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    sandbox.update(conflict_annotate=1000)
    before = workload(sandbox.deployment())
    run = run_engine(server, image=image("v2"), lock_wait="0s")
    assert (run.outcome.result, run.code) == ("failed", 1)
    assert [args[0] for args in run.commands] == ["get", "annotate"] * 5
    assert run.sleeps == [1.0, 1.5, 2.0]  # the first retried at once, then ever more slowly
    assert run.outcome.reason == (
        "deployment/api kept changing: 5 writes of its deploy lock in a row were refused "
        "(Conflict) within 0s"
    )
    assert workload(sandbox.deployment()) == before


def test_a_lock_taken_over_while_held_is_left_alone_and_reported(
    sandbox: Sandbox, server: SmokeServer
) -> None:
    def overtaken(args: list[str]) -> None:
        if args[:2] == ["rollout", "status"]:  # this run's lock expired; another took it
            sandbox.set_lock(held_by())

    run = run_engine(server, hook=overtaken, image=image("v2"))
    assert (run.outcome.result, run.code) == ("deployed", 0)
    assert sandbox.lock() == held_by()
    assert run.commands[-1][0] == "get"  # looked, did not remove theirs
    ours = expiry(run.commands[1][2]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert (
        f"::warning title=Deploy lock taken over::the deploy lock of deployment/api expired at "
        f"{ours} while this run still held it, and {OTHER} took it: their deploy may have "
        "overlapped this one. Their lock is left in place"
    ) in run.log


def test_a_lock_removed_by_hand_is_not_written_again(sandbox: Sandbox, server: SmokeServer) -> None:
    def by_hand(args: list[str]) -> None:
        if args[:2] == ["rollout", "status"]:
            drop_lock(sandbox)

    run = run_engine(server, hook=by_hand, image=image("v2"))
    assert run.outcome.result == "deployed"
    assert [args[0] for args in run.commands[-2:]] == ["rollout", "get"]
    assert sandbox.lock() is None
    assert "::warning" not in run.log
