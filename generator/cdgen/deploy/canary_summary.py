"""The canary's part of the job summary: a row per step (requested and real share, pods,
decision), then per step each check's values against the bounds, over time."""

from __future__ import annotations

from cdgen.deploy.canary_report import PASS, CanaryReport, Check, Reading, StepReport, format_value
from cdgen.deploy.durations import format_seconds
from cdgen.deploy.markdown import cell, code

# A long pause checked often makes many rows: the first and the last are shown (the check
# that failed a step is always its last).
MAX_ROWS = 60
_VERDICTS = {PASS: "✅ pass", "fail": "❌ fail", "error": "⚠️ no answer"}


def _traffic(report: CanaryReport) -> str:
    if report.traffic == "gateway":
        return f"gateway: HTTPRoute weights between the stable Service and {code(report.canary)}'s"
    return f"replicas: {code(report.canary)} pods beside the stable ones, behind the same Service"


def _pods(step: StepReport, report: CanaryReport) -> str:
    beside = "" if report.traffic == "gateway" else f" beside {step.stable_replicas}"
    return f"{step.canary_replicas}{beside}"


def _decision(step: StepReport) -> str:
    icon = {"passed": "✅ "}.get(
        step.decision, "❌ " if step.decision.startswith("aborted") else ""
    )
    return icon + cell(step.decision)


def _steps_table(report: CanaryReport) -> list[str]:
    lines = [
        "| Step | Requested | Real share | Canary pods | Checks | Decision |",
        "|---|---|---|---|---|---|",
    ]
    for step in report.steps:
        lines.append(
            f"| {step.number} | {step.percent}% | {step.share:.1f}% | {_pods(step, report)} | "
            f"{len(step.checks)} | {_decision(step)} |"
        )
    return lines


def _reading(reading: Reading) -> str:
    """The value, marked when it broke its bound or the query failed."""
    value = reading.value
    if reading.error:
        return "⚠️ " + cell(reading.shown)
    broken = value is not None and reading.metric.violated_by(value)
    return cell(reading.shown) + (" ❌" if broken else "")


def _check_row(check: Check) -> str:
    values = " | ".join(_reading(reading) for reading in check.readings)
    verdict = _VERDICTS.get(check.verdict, check.verdict)
    reason = f": {cell(check.reason)}" if check.reason else ""
    return f"| {check.number} | {format_seconds(check.seconds)} | {values} | {verdict}{reason} |"


def _checks_table(step: StepReport, report: CanaryReport) -> list[str]:
    bounds = " | ".join(
        f"{cell(m.name)} ({m.bound} {format_value(m.limit)})" for m in report.metrics
    )
    lines = [
        "",
        f"#### Step {step.number}: {step.percent}%, {_decision(step)}",
        "",
        f"| Check | At | {bounds} | Verdict |",
        "|---|---|" + "---|" * len(report.metrics) + "---|",
    ]
    checks = step.checks
    if len(checks) > MAX_ROWS:
        half = MAX_ROWS // 2
        skipped = len(checks) - MAX_ROWS
        rows = [_check_row(c) for c in checks[:half]]
        rows.append(f"| … | {skipped} more check(s) |" + " |" * len(report.metrics) + " |")
        rows += [_check_row(c) for c in checks[-half:]]
    else:
        rows = [_check_row(c) for c in checks]
    return lines + rows


def render_canary(report: CanaryReport | None) -> list[str]:
    if report is None:
        return []
    lines = [
        "",
        "### Canary",
        "",
        f"Traffic by {_traffic(report)}. Decision: **{cell(report.decision)}**, "
        f"after {format_seconds(report.seconds)} of canary.",
    ]
    if report.removal:
        lines[-1] += f" Removal: {cell(report.removal)}."
    if not report.steps:
        return lines
    lines += ["", *_steps_table(report)]
    for step in report.steps:
        if step.checks:
            lines += _checks_table(step, report)
    return lines
