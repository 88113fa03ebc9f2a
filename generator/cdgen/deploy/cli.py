"""Command line of the deploy engine: ``python3 -m cdgen.deploy`` and ``cdgen deploy``.

Each option falls back to the environment variable the composite action sets, so the
action and a laptop run the same engine with the same options.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from cdgen.deploy.cancel import Cancelled, SignalGuard, signal_name
from cdgen.deploy.console import Console
from cdgen.deploy.engine import build_engine
from cdgen.deploy.inputs import INPUTS
from cdgen.deploy.kubeconfig import KubeconfigFileError, kubeconfig_file
from cdgen.deploy.kubectl import Kubectl
from cdgen.deploy.options import InvalidInputsError, Options, parse_options
from cdgen.deploy.outcome import FAILED, RECORDED, Outcome
from cdgen.deploy.records import Records
from cdgen.deploy.records_target import run_url, target_from_environ
from cdgen.deploy.step_end import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    write_and_close,
)
from cdgen.deploy.summary import render_outputs, render_summary

EXIT_STATUS = (
    "Exit status: 0 deployed (with --mode=rollback: rolled back; verify: verified; record: "
    "recorded), or skipped because --only-if-live is no longer live; 1 rolled back, failed "
    "(the deploy lock not free within --lock-wait included), or the outputs could not be "
    "written; 2 invalid input, nothing changed; 3 unexpected error (after the undo path "
    "ran); 128+N cancelled by signal N (130 SIGINT, 143 SIGTERM): after set image, rollout "
    "undo was issued at once and not waited for."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdgen deploy",
        description="Deploy an image to a Kubernetes Deployment, verify it, roll back on failure.",
        epilog="Every option can also be set through the environment variable in brackets; "
        "the kubeconfig content is read from CDGEN_KUBECONFIG only. " + EXIT_STATUS,
    )
    for spec in INPUTS:
        if spec.cli:
            default = f"; default: {spec.default}" if spec.default else ""
            parser.add_argument(
                spec.flag,
                dest=spec.dest,
                metavar="VALUE",
                help=f"{spec.help} [{spec.env}{default}]",
            )
    parser.add_argument(
        "--summary-file",
        metavar="PATH",
        help="append the Markdown summary here [GITHUB_STEP_SUMMARY]",
    )
    parser.add_argument(
        "--output-file", metavar="PATH", help="append the step outputs here [GITHUB_OUTPUT]"
    )
    parser.add_argument(
        "--log-format",
        choices=("auto", "github", "plain"),
        help="github: workflow commands; auto: github when GITHUB_ACTIONS=true [CDGEN_LOG_FORMAT]",
    )
    return parser


def collect_inputs(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """Command-line values first, then the environment; the commit time falls back to the
    push event's head commit."""
    raw = {}
    for spec in INPUTS:
        given = getattr(args, spec.dest, None) if spec.cli else None
        raw[spec.name] = given if given not in (None, "") else environ.get(spec.env, "")
    if not raw["commit-time"]:
        raw["commit-time"] = _event_commit_time(environ.get("GITHUB_EVENT_PATH", ""))
    if not raw["commit"] and raw["github-token"]:
        raw["commit"] = environ.get("GITHUB_SHA", "")  # the run's commit, unless told
    return raw


def _event_commit_time(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
        timestamp = event["head_commit"]["timestamp"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return timestamp if isinstance(timestamp, str) else ""


@dataclass
class Reports:
    """The summary and outputs files, opened before anything touches the cluster."""

    summary: TextIO | None = None
    outputs: TextIO | None = None


def _open(path: str | None, flag: str, problems: list[str]) -> TextIO | None:
    if not path:
        return None
    try:
        return open(path, "a", encoding="utf-8", errors="backslashreplace")
    except OSError as error:
        problems.append(f"{flag}: cannot write {path}: {error.strerror or error}")
        return None


def _report(outcome: Outcome, console: Console, reports: Reports, code: int) -> int:
    """Write the summary and the outputs; a lost summary is a warning, lost outputs fail the
    step (a later job would read empty outputs), and the log says what is live either way."""
    problem = write_and_close(reports.summary, console.redact(render_summary(outcome)))
    if problem:
        console.warning(f"the job summary is lost: {problem}", "Summary not written")
    problem = write_and_close(reports.outputs, render_outputs(outcome))
    if problem:
        live = outcome.deployed_image or "unknown"
        console.error(
            f"the step outputs are lost: {problem}. The run ended {outcome.result}; "
            f"live image: {live}",
            "Outputs not written",
        )
        return code or EXIT_FAILED
    return code


def _reject(console: Console, error: InvalidInputsError, raw: dict[str, str]) -> Outcome:
    for problem in error.problems:
        console.error(problem, "Invalid input")
    console.error("nothing was changed: fix the inputs above", "Invalid input")
    outcome = Outcome(
        raw.get("mode") or "deploy",
        raw.get("environment") or raw.get("namespace", ""),
        raw.get("image", ""),
    )
    outcome.reason = "invalid input: " + "; ".join(error.problems)
    return outcome


def exit_status(outcome: Outcome) -> int:
    if outcome.signal:
        return 128 + outcome.signal
    if outcome.crash:
        return EXIT_UNEXPECTED
    return EXIT_OK if outcome.succeeded else EXIT_FAILED


@dataclass
class Holder:
    """The outcome to report, whatever stops the run."""

    outcome: Outcome


def _execute(
    raw: dict[str, str],
    console: Console,
    environ: Mapping[str, str],
    held: Holder,
    time_scale: float = 1.0,
) -> int:
    try:
        options = parse_options(raw)
    except InvalidInputsError as error:
        held.outcome = _reject(console, error, raw)
        return EXIT_USAGE
    held.outcome = Outcome(options.mode, options.environment, options.image)
    records = _records(options, console, environ)
    if options.mode == "record":
        held.outcome = _close(options, records, console)
        return EXIT_OK  # bookkeeping never fails the job: a record not written is a warning
    if options.site is not None:  # a static site: its provider's CLI and API, no cluster
        from cdgen.deploy.site.run import build_site_engine

        site = build_site_engine(options, console, records, environ)
        held.outcome = site.outcome
        return exit_status(site.run())
    if shutil.which("kubectl") is None:
        held.outcome.reason = "kubectl is not on PATH"
        console.error("kubectl is not on PATH; nothing was changed")
        return EXIT_FAILED
    try:
        with kubeconfig_file(options.kubeconfig, environ.get("RUNNER_TEMP") or None) as path:
            kubectl = Kubectl(path or options.kubeconfig_file)
            engine = build_engine(
                options,
                kubectl,
                console,
                records=records,
                holder=_holder(environ),
                time_scale=time_scale,
            )
            held.outcome = engine.outcome
            return exit_status(engine.run())
    except KubeconfigFileError as error:
        held.outcome.reason = f"kubeconfig: {error}"
        console.error(f"kubeconfig: {error}; nothing was changed")
        return EXIT_FAILED


def _records(options: Options, console: Console, environ: Mapping[str, str]) -> Records | None:
    recording = options.recording
    if not recording.token or options.mode == "verify":
        return None
    target = target_from_environ(
        environ,
        token=recording.token,
        environment=options.environment,
        environment_url=recording.environment_url,
        commit=recording.commit,  # mode record: closing a record names no commit
        service=recording.service,
    )
    return Records(target, lambda text: console.warning(text, "Deployment record"))


def _close(options: Options, records: Records | None, console: Console) -> Outcome:
    """mode record: give a deployment record its final state; nothing else is touched."""
    recording = options.recording
    outcome = Outcome("record", options.environment, "")
    ident = recording.deployment_id
    if records is None or ident is None:  # parse_options requires both
        return outcome
    outcome.deployment_id = ident
    if records.close(ident, recording.state, recording.description or recording.state):
        outcome.result = RECORDED
        outcome.record = f"deployment {ident}: {recording.state}"
        console.notice(f"deployment {ident} is {recording.state}", "Deployment recorded")
    else:
        outcome.result = FAILED
        outcome.reason = f"deployment {ident} could not be set to {recording.state}"
        console.warning(
            f"{outcome.reason}; it stays as it was (a promotion needs a successful record)",
            "Deployment record not written",
        )
    return outcome


def _holder(environ: Mapping[str, str]) -> str:
    """Who holds the deploy lock: the workflow run, or the user on a laptop."""
    url = run_url(environ)
    if url:
        return url
    user = environ.get("USER") or environ.get("USERNAME") or "someone"
    return f"{user} (cdgen deploy, pid {os.getpid()})"


def run(
    argv: list[str] | None,
    environ: Mapping[str, str],
    stream: TextIO,
    guard: SignalGuard | None = None,
    *,
    time_scale: float = 1.0,
) -> int:
    """Run the engine as ``argv`` and ``environ`` say. ``time_scale`` shortens a canary's
    pauses for tests; no flag, input or environment variable sets it."""
    args = build_parser().parse_args(argv)
    log_format = args.log_format or environ.get("CDGEN_LOG_FORMAT") or "auto"
    github = log_format == "github" or (
        log_format == "auto" and environ.get("GITHUB_ACTIONS") == "true"
    )
    raw = collect_inputs(args, environ)
    console = Console(stream, github=github)
    problems: list[str] = []
    reports = Reports(
        _open(args.summary_file or environ.get("GITHUB_STEP_SUMMARY"), "--summary-file", problems),
        _open(args.output_file or environ.get("GITHUB_OUTPUT"), "--output-file", problems),
    )
    if problems:
        for problem in problems:
            console.error(f"{problem}; nothing was changed", "Invalid input")
        write_and_close(reports.summary, "")
        write_and_close(reports.outputs, "")
        return EXIT_USAGE
    if raw["mode"] == "changes":
        from cdgen.deploy.changes_step import run_changes

        return run_changes(raw, environ, console, reports.summary, reports.outputs)
    if raw["services"] or raw["images"] or raw["results"]:
        from cdgen.deploy.fleet_step import run_fleet

        return run_fleet(raw, environ, stream, console, (reports.summary, reports.outputs), guard)
    held = Holder(Outcome(raw["mode"] or "deploy", raw["environment"], raw["image"]))
    code = EXIT_UNEXPECTED
    try:
        code = _execute(raw, console, environ, held, time_scale)
    except Cancelled as stop:  # before or after the engine ran; the engine handles its own
        if held.outcome.finished_at is None:
            held.outcome.signal = stop.signum
            held.outcome.reason = held.outcome.reason or f"cancelled by {signal_name(stop.signum)}"
        code = exit_status(held.outcome)
    finally:
        if guard is not None:
            guard.hold()
        code = _report(held.outcome, console, reports, code)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (see EXIT_STATUS)."""
    guard = SignalGuard().install()
    try:
        return run(argv, os.environ, sys.stdout, guard)
    except Cancelled as stop:
        print(f"cdgen deploy: cancelled by {stop.name}", file=sys.stderr)
        return 128 + stop.signum
    except Exception as error:
        print(
            f"::error title=cdgen deploy crashed::{type(error).__name__}: {error}", file=sys.stderr
        )
        return EXIT_UNEXPECTED
    finally:
        guard.restore()
