"""The action's step with ``services``: plan each service's run, run them in parallel, close
the deployment records an earlier step left open, write the outputs and the job summary."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TextIO

from cdgen.deploy.cancel import SignalGuard, signal_name
from cdgen.deploy.console import Console
from cdgen.deploy.fleet import (
    InvalidFleet,
    MemberResult,
    Plan,
    plan_fleet,
    render_outputs,
    render_summary,
)
from cdgen.deploy.fleet_processes import FleetRunner, Relay
from cdgen.deploy.outcome import RECORDED, ROLLED_BACK, SKIPPED, SUCCESS
from cdgen.deploy.records import Records
from cdgen.deploy.records_target import target_from_environ
from cdgen.deploy.step_end import EXIT_FAILED, EXIT_OK, EXIT_USAGE, write_and_close


def run_fleet(  # noqa: PLR0917 - the step's inputs, in the order the step has them
    raw: Mapping[str, str],
    environ: Mapping[str, str],
    stream: TextIO,
    console: Console,
    reports: tuple[TextIO | None, TextIO | None],
    guard: SignalGuard | None,
) -> int:
    summary, outputs = reports
    try:
        plan = plan_fleet(raw)
    except InvalidFleet as error:
        for problem in error.problems:
            console.error(problem, "Invalid input")
        console.error("nothing was changed: fix the inputs above", "Invalid input")
        _write(summary, "", console)
        _write(outputs, "", console)
        return EXIT_USAGE
    if guard is not None:
        guard.hold()  # signals are recorded, then passed on to the engines
    runner = FleetRunner(environ, Relay(stream))
    names = ", ".join(m.service for m in plan.members) or "none"
    console.info(f"{plan.mode}: {len(plan.members)} service(s): {names}")
    results = runner.run(plan.members, lambda: guard.received if guard is not None else 0)
    _report_lost(plan, raw, console, results)
    _close_records(plan, raw, environ, console, results)
    cancelled = runner.cancelled
    note = f"cancelled by {signal_name(cancelled)}" if cancelled else ""
    environment = raw.get("environment") or raw.get("namespace", "")
    _write(summary, render_summary(plan.mode, environment, results, note), console)
    delimiter = f"CDGEN_{secrets.token_hex(16)}"
    lost = _write(outputs, render_outputs(plan.mode, results, bool(cancelled), delimiter), console)
    if cancelled:
        return 128 + cancelled
    if lost:
        return EXIT_FAILED
    failed = [r.service for r in results if not _succeeded(plan.mode, r)]
    if failed:
        console.error(f"{plan.mode} did not succeed for: {', '.join(failed)}", "Services failed")
        return EXIT_FAILED
    return EXIT_OK


def _report_lost(
    plan: Plan, raw: Mapping[str, str], console: Console, results: list[MemberResult]
) -> None:
    """An engine killed outright (SIGKILL, the OOM killer) undid nothing and left no result
    the rollback step could act on: its Deployment may run an unverified image."""
    by_service = {m.service: m for m in plan.members}
    for result in results:
        member = by_service[result.service]
        if not result.lost or plan.mode not in ("deploy", "rollback"):
            continue
        namespace = f"--namespace={raw.get('namespace', '')}"
        resource = f"deployment/{member.inputs.get('deployment', result.service)}"
        image = member.inputs.get("image", "")
        history = f"kubectl rollout history {resource} {namespace}"
        if plan.mode == "deploy":
            then = (
                f"if its newest revision runs {image}: kubectl rollout undo {resource} {namespace}"
            )
        else:
            then = f"put {image} back: it was not verified live"
        result.reason += f"; {resource} may be degraded"
        console.error(
            f"[{result.service}] {result.reason}, and nothing undid what it changed. "
            f"{resource} in namespace {raw.get('namespace', '')}: the environment "
            f"{raw.get('environment', '')} may be degraded. Check by hand, with the cluster's "
            f"kubeconfig: {history}; {then}",
            "NOT ROLLED BACK: environment may be degraded",
        )


def _succeeded(mode: str, result: MemberResult) -> bool:
    return result.result in (SUCCESS.get(mode, ""), SKIPPED)


def _close_records(
    plan: Plan,
    raw: Mapping[str, str],
    environ: Mapping[str, str],
    console: Console,
    results: list[MemberResult],
) -> None:
    """With `results`: give each record the earlier deploy step left open its final state."""
    token = raw.get("github-token", "")
    members = [m for m in plan.members if m.record is not None]
    if not members or not token:
        return
    by_service = {r.service: r for r in results}
    for member in members:
        result = by_service[member.service]
        state, description = _record_state(plan.mode, raw, result)
        assert member.record is not None
        target = target_from_environ(
            environ,
            token=token,
            environment=raw.get("environment", ""),
            environment_url="",
            commit="",
            service=member.service,
        )
        records = Records(target, lambda text: console.warning(text, "Deployment record"))
        if records.close(member.record, state, description):
            result.record = f"deployment {member.record}: {state}"
            if plan.mode == "record":
                result.result, result.reason = RECORDED, ""
        else:
            result.record = f"deployment {member.record}: not updated"


def _record_state(mode: str, raw: Mapping[str, str], result: MemberResult) -> tuple[str, str]:
    if mode == "record":
        return raw.get("record-state") or "success", raw.get("record-description") or "closed"
    why = raw.get("record-description") or "another part of this run failed"
    if result.result == ROLLED_BACK:
        return "failure", f"{why}; rolled back"
    if result.result == SKIPPED and not result.reason:
        return "failure", f"{why}; a newer image replaced it, left as is"
    if result.result == SKIPPED:
        return "failure", f"{why}; {result.reason}"
    return "error", f"{why}; the rollback failed: {result.reason or 'see the log'}"


def _write(handle: TextIO | None, text: str, console: Console) -> int:
    problem = write_and_close(handle, text)
    if problem:
        console.error(problem, "Outputs not written")
        return EXIT_FAILED
    return EXIT_OK
