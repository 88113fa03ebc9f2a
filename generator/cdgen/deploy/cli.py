"""Command line of the deploy engine: ``python3 -m cdgen.deploy`` and ``cdgen deploy``.

Each option falls back to the environment variable the composite action sets, so the
action and a laptop run the same engine with the same options.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
from collections.abc import Mapping
from types import FrameType
from typing import TextIO

from cdgen.deploy.console import Console
from cdgen.deploy.engine import Engine
from cdgen.deploy.inputs import INPUTS
from cdgen.deploy.kubeconfig import kubeconfig_file
from cdgen.deploy.kubectl import Kubectl
from cdgen.deploy.options import InvalidInputsError, Options, parse_options
from cdgen.deploy.outcome import Outcome
from cdgen.deploy.summary import render_outputs, render_summary

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdgen deploy",
        description="Deploy an image to a Kubernetes Deployment, verify it, roll back on failure.",
        epilog="Every option can also be set through the environment variable in brackets; "
        "the kubeconfig content is read from CDGEN_KUBECONFIG only. Exit status: 0 deployed "
        "(or, with --mode=rollback, rolled back) or skipped because --only-if-live is no "
        "longer live, 1 rolled back or failed, 2 invalid input.",
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
    return raw


def _event_commit_time(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
        timestamp = event["head_commit"]["timestamp"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return timestamp if isinstance(timestamp, str) else ""


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


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


def _execute(options: Options, console: Console, environ: Mapping[str, str]) -> Outcome:
    if shutil.which("kubectl") is None:
        outcome = Outcome(
            options.mode, options.environment, options.image, reason="kubectl is not on PATH"
        )
        console.error("kubectl is not on PATH; nothing was changed")
        return outcome
    with kubeconfig_file(options.kubeconfig, environ.get("RUNNER_TEMP") or None) as path:
        kubectl = Kubectl(path or options.kubeconfig_file)
        return Engine(options, kubectl, console).run()


def run(argv: list[str] | None, environ: Mapping[str, str], stream: TextIO) -> int:
    args = build_parser().parse_args(argv)
    log_format = args.log_format or environ.get("CDGEN_LOG_FORMAT") or "auto"
    github = log_format == "github" or (
        log_format == "auto" and environ.get("GITHUB_ACTIONS") == "true"
    )
    raw = collect_inputs(args, environ)
    console = Console(stream, github=github, secrets_text=raw["kubeconfig"])
    summary_file = args.summary_file or environ.get("GITHUB_STEP_SUMMARY")
    output_file = args.output_file or environ.get("GITHUB_OUTPUT")
    outcome = Outcome(
        raw["mode"] or "deploy", raw["environment"], raw["image"], reason="interrupted"
    )
    try:
        try:
            options = parse_options(raw)
        except InvalidInputsError as error:
            outcome = _reject(console, error, raw)
            return EXIT_USAGE
        outcome = _execute(options, console, environ)
        return EXIT_OK if outcome.succeeded else EXIT_FAILED
    finally:
        _append(output_file, render_outputs(outcome))
        _append(summary_file, console.redact(render_summary(outcome)))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok or skipped, 1 failed or rolled back, 2 usage,
    3 bug)."""
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        return run(argv, os.environ, sys.stdout)
    except KeyboardInterrupt:
        print("cdgen deploy: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        print(
            f"::error title=cdgen deploy crashed::{type(error).__name__}: {error}", file=sys.stderr
        )
        return EXIT_UNEXPECTED
