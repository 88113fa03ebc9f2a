"""The job summary (Markdown) and the step outputs, rendered from an Outcome."""

from __future__ import annotations

import secrets

from cdgen.deploy.canary_summary import render_canary
from cdgen.deploy.cancel import signal_name
from cdgen.deploy.durations import format_seconds
from cdgen.deploy.markdown import cell as _cell
from cdgen.deploy.markdown import code as _code
from cdgen.deploy.options import lead_time
from cdgen.deploy.outcome import DEPLOYED, RECORDED, ROLLED_BACK, SKIPPED, VERIFIED, Outcome
from cdgen.deploy.preflight import FAIL

_ICONS = {DEPLOYED: "✅", ROLLED_BACK: "↩️", SKIPPED: "⏭️", VERIFIED: "✅", RECORDED: "📝"}


def _lead_time(outcome: Outcome) -> str:
    looked = outcome.result in (SKIPPED, VERIFIED)  # the live image was left as it was
    if not outcome.succeeded or looked or outcome.finished_at is None:
        return "— (nothing new went live)"
    if outcome.commit_time is None:
        return "— (commit time unknown)"
    delta = lead_time(outcome.commit_time, outcome.finished_at)
    if delta is None:
        return "— (commit time is in the future)"
    return f"{format_seconds(delta.total_seconds())} (commit at {outcome.commit_time.isoformat()})"


def _overview(outcome: Outcome) -> list[str]:
    verdict = outcome.result + (": the environment may be degraded" if outcome.degraded else "")
    rows = [
        ("Environment", _cell(outcome.environment)),
        ("Mode", outcome.mode),
        (f"Previous {outcome.kind}", _code(outcome.previous_image)),
        (f"New {outcome.kind}", _code(outcome.image)),
        (
            f"Live {outcome.kind} now",
            _code(outcome.deployed_image) if outcome.deployed_image else "unknown",
        ),
        ("Outcome", f"**{_cell(verdict)}**"),
        ("Lead time", _cell(_lead_time(outcome))),
    ]
    if outcome.reason:
        rows.append(("Reason", _cell(outcome.reason)))
    if outcome.record:
        rows.append(("Deployment record", _cell(outcome.record)))
    return ["| | |", "|---|---|", *(f"| {key} | {value} |" for key, value in rows)]


def _skipped(outcome: Outcome) -> list[str]:
    if outcome.result != SKIPPED:
        return []
    return [
        "",
        "> [!NOTE]",
        f"> **Nothing was changed.** The environment now runs {_code(outcome.deployed_image)}, "
        f"which replaced {_code(outcome.only_if_live)} (`only-if-live`), so it was left as is: "
        f"{_code(outcome.image)} was not set.",
    ]


def _phases(outcome: Outcome) -> list[str]:
    lines = ["", "### Phases", "", "| Phase | Duration | Result |", "|---|---|---|"]
    for phase in outcome.phases:
        result = ("✅ " if phase.ok else "❌ ") + _cell(phase.detail)
        lines.append(f"| {_cell(phase.name)} | {format_seconds(phase.seconds)} | {result} |")
    return lines


def _smoke(outcome: Outcome) -> list[str]:
    lines = ["", "### Smoke test", ""]
    if outcome.smoke_skipped:
        return [*lines, "No smoke test: `smoke-url` is empty."]
    if not outcome.smoke:
        return [*lines, "Not run."]
    lines += ["| Attempt | Result | Duration |", "|---|---|---|"]
    for number, ok, detail, seconds in outcome.smoke:
        lines.append(
            f"| {number} | {'✅' if ok else '❌'} {_cell(detail)} | {format_seconds(seconds)} |"
        )
    return lines


def _commands(outcome: Outcome) -> list[str]:
    return ["", "```sh", *outcome.manual_commands, "```"]


def _degraded(outcome: Outcome) -> list[str]:
    if not outcome.degraded:
        return []
    return [
        "",
        "> [!CAUTION]",
        f"> **{_cell(outcome.note)} The environment may be degraded.** Run by hand:",
        *_commands(outcome),
    ]


def _cancelled(outcome: Outcome) -> list[str]:
    if not outcome.signal or outcome.degraded:
        return []
    lines = ["", "> [!WARNING]", f"> **Cancelled by {signal_name(outcome.signal)}.** "]
    lines[-1] += _cell(outcome.note)
    if outcome.manual_commands:
        lines[-1] += " Check that the previous image is back:"
        lines += _commands(outcome)
    return lines


def _preflight(outcome: Outcome) -> list[str]:
    if not outcome.findings:
        return []
    lines = ["", "### Preflight", "", "| | Finding | Fix |", "|---|---|---|"]
    for finding in outcome.findings:
        icon = "❌" if finding.level == FAIL else "⚠️"
        lines.append(f"| {icon} | {_cell(finding.message)} | {_code(finding.fix)} |")
    return lines


def render_summary(outcome: Outcome) -> str:
    icon = _ICONS.get(outcome.result, "❌")
    title = f"## {icon} cdgen {outcome.mode}: {_cell(outcome.environment)}: {outcome.result}"
    if outcome.mode == "record":
        detail = outcome.record or outcome.reason or "nothing was recorded"
        return f"{title}\n\n{_cell(detail)}\n"
    lines = [
        title,
        "",
        *_overview(outcome),
        *_degraded(outcome),
        *_cancelled(outcome),
        *_skipped(outcome),
        *_preflight(outcome),
        *_phases(outcome),
        *render_canary(outcome.canary),
        *_smoke(outcome),
    ]
    return "\n".join(lines) + "\n"


def render_outputs(outcome: Outcome) -> str:
    """Step outputs in the multi-line ``name<<DELIMITER`` form, which no value can break."""
    values = {
        "result": outcome.result,
        "previous-image": outcome.previous_image,
        "deployed-image": outcome.deployed_image,
        "deployment-id": "" if outcome.deployment_id is None else str(outcome.deployment_id),
    }
    delimiter = f"CDGEN_{secrets.token_hex(16)}"
    return "".join(f"{name}<<{delimiter}\n{value}\n{delimiter}\n" for name, value in values.items())
