"""The inputs that say how a run is recorded as a GitHub deployment, checked like every
other input, and the record's final state for each way a run can end.

One record per deploy or rollback: opened (``in_progress``) just before ``set image`` (a run
that changed nothing leaves none), closed with the run's result, or left open with
``record-open`` for a later ``mode: record`` step, after the environment's end-to-end tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK, Outcome
from cdgen.deploy.records_target import CONTROL, one_line, token_problem

COMMIT = re.compile(r"[0-9a-f]{40}")
SERVICE = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
DEPLOYMENT_ID = re.compile(r"[1-9][0-9]{0,18}")
MAX_DEPLOYMENT_ID = 2**63 - 1  # GitHub's ids are 64-bit signed integers
CLOSING_STATES = ("success", "failure", "error")
MAX_DESCRIPTION = 140


@dataclass(frozen=True)
class Recording:
    """``token`` empty: nothing is recorded."""

    token: str = field(default="", repr=False)
    commit: str = ""
    environment_url: str = ""
    keep_open: bool = False
    deployment_id: int | None = None  # mode record: the record to close
    state: str = ""  # mode record
    description: str = ""  # mode record
    service: str = ""  # named in the record's payload


def parse_recording(raw: dict[str, str], mode: str, problems: list[str]) -> Recording:
    """The recording inputs of ``raw`` (already defaulted); problems are appended."""
    token = raw.get("github-token", "")
    problem = token_problem("github-token", token, 1024)
    if problem:
        problems.append(problem)
    commit = raw.get("commit", "")
    if commit and not COMMIT.fullmatch(commit):
        problems.append(f"commit: {commit[:80]!r} is not a full commit SHA (40 hex digits)")
    elif token and not commit and mode in ("deploy", "rollback"):
        problems.append("commit: required to record the deploy (the image's commit)")
    keep_open = raw.get("record-open", "false")
    if keep_open not in ("true", "false"):
        problems.append(f"record-open: {keep_open[:20]!r} is not 'true' or 'false'")
    service = raw.get("service", "")
    if service and not SERVICE.fullmatch(service):
        problems.append(f"service: {service[:80]!r} is not a service name (a-z, 0-9, '-')")
    recording = Recording(
        token, commit, raw.get("environment-url", ""), keep_open == "true", service=service
    )
    if mode != "record":
        return recording
    return _parse_closing(raw, recording, problems)


def _parse_closing(raw: dict[str, str], recording: Recording, problems: list[str]) -> Recording:
    ident = raw.get("deployment-id", "")
    state = raw.get("record-state", "")
    description = raw.get("record-description", "")
    if not recording.token:
        problems.append("github-token: required with mode record")
    number = int(ident) if DEPLOYMENT_ID.fullmatch(ident) else 0
    if not 0 < number <= MAX_DEPLOYMENT_ID:
        problems.append(f"deployment-id: {ident[:40]!r} is not a deployment id (a number)")
    if state not in CLOSING_STATES:
        problems.append(f"record-state: {state[:20]!r} is not one of {', '.join(CLOSING_STATES)}")
    # Spaces are GitHub's to collapse; a line break or a control character is refused.
    if len(description) > MAX_DESCRIPTION or CONTROL.search(description):
        problems.append(f"record-description: one line of at most {MAX_DESCRIPTION} characters")
    return Recording(
        recording.token,
        recording.commit,
        recording.environment_url,
        recording.keep_open,
        number or None,
        state,
        one_line(description),
        recording.service,
    )


def closing(outcome: Outcome, *, changed: bool = True) -> tuple[str, str]:
    """The final state and description of a run's record, from how the run ended;
    ``changed``: set image may have run."""
    image = outcome.image
    if outcome.degraded:
        return "error", f"{image} not rolled back cleanly: {outcome.note or outcome.reason}"
    if outcome.signal and not changed:
        return "failure", f"cancelled before {image} was set; nothing was changed"
    if outcome.signal:
        return "failure", f"cancelled after {image} was set; rollback issued"
    live = DEPLOYED if outcome.mode == "deploy" else ROLLED_BACK
    if outcome.result == live:
        return "success", f"{image} is live and verified"
    if outcome.result in (ROLLED_BACK, FAILED):
        return "failure", f"{image} did not stay live: {outcome.reason}"
    return "failure", f"{image}: {outcome.result}"


def record_service(record: Any) -> str | None:
    """The service a deployment record names: its payload's ``service``, read back by the
    changes step and by ``cdgen metrics``. GitHub hands a payload back as the JSON text it was
    given when it was given text. Anyone who can write deployments can write any payload: a
    name that is not a service name (a line break, markdown) names none."""
    payload = record.get("payload") if isinstance(record, dict) else None
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return None
    service = payload.get("service") if isinstance(payload, dict) else None
    return service if isinstance(service, str) and SERVICE.fullmatch(service) else None
