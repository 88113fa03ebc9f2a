"""The metrics as a table, markdown and JSON, each figure with its DORA 2023 level."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cdgen.metrics import bands
from cdgen.metrics.dora import Metrics
from cdgen.metrics.records import Window
from cdgen.metrics.report import duration, escape, percent, render_report

HOUR, DAY = 3600.0, 86400.0
WINDOW = Window(date(2026, 9, 1), date(2026, 10, 1))


def metrics(environment: str = "production", **changes: object) -> Metrics:
    figures: dict[str, object] = {
        "repository": "acme/api",
        "environment": environment,
        "window": WINDOW,
        "successful": 10,
        "failed": 2,
        "deploy_days": 8,
        "lead_times": (1 * HOUR, 1.5 * HOUR, 2 * HOUR, 26 * HOUR),
        "recoveries": (1800.0, 1800.0),
        "unrecovered": 0,
    }
    figures.update(changes)
    return Metrics(**figures)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "n/a"),
        (0, "0s"),
        (42.4, "42s"),
        (59.6, "1m"),
        (7800, "2h 10m"),
        (7200, "2h"),
        (7259, "2h"),  # two units at most
        (90061, "1d 1h"),
        (DAY + 59, "1d"),
        (-300, "-5m"),  # a committer clock ahead of GitHub's
    ],
)
def test_durations_read_like_2h_10m(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_rates_are_percentages() -> None:
    assert (percent(1 / 6), percent(0.0), percent(None)) == ("16.7%", "0.0%", "n/a")


@pytest.mark.parametrize(
    ("per_day", "level"),
    [
        (3.0, "elite"),
        (1.0, "elite"),
        (0.99, "high"),
        (1 / 7, "high"),
        (0.14, "medium"),
        (1 / 30, "medium"),
        (0.033, "low"),
        (0.0, "low"),
    ],
)
def test_deployment_frequency_levels(per_day: float, level: str) -> None:
    assert bands.frequency_level(per_day) == level


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (DAY - 1, "elite"),
        (DAY, "high"),
        (7 * DAY, "high"),
        (7 * DAY + 1, "medium"),
        (30 * DAY, "medium"),
        (30 * DAY + 1, "low"),
        (None, None),
    ],
)
def test_lead_time_levels(seconds: float | None, level: str | None) -> None:
    assert bands.lead_time_level(seconds) == level


@pytest.mark.parametrize(
    ("rate", "level"),
    [
        (0.0, "elite"),
        (0.05, "elite"),
        (0.0501, "high"),
        (0.10, "high"),
        (0.15, "medium"),
        (0.1501, "low"),
        (1.0, "low"),
        (None, None),
    ],
)
def test_change_failure_rate_levels(rate: float | None, level: str | None) -> None:
    assert bands.failure_rate_level(rate) == level


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (HOUR - 1, "elite"),
        (HOUR, "high"),
        (DAY - 1, "high"),
        (DAY, "medium"),
        (7 * DAY, "medium"),
        (7 * DAY + 1, "low"),
        (None, None),
    ],
)
def test_recovery_time_levels(seconds: float | None, level: str | None) -> None:
    assert bands.recovery_level(seconds) == level


def test_table_shows_each_figure_with_its_level() -> None:
    text = render_report(metrics(), "table")
    lines = text.splitlines()
    assert lines[:2] == [
        "DORA metrics for acme/api, environment production",
        "2026-09-01 to 2026-09-30 (30 days, UTC)",
    ]
    assert lines[3].split() == ["metric", "value", "DORA", "level"]
    rows = {line.split("  ")[0]: line.split() for line in lines[4:8]}
    assert rows["Deployment frequency"][-1] == "high"  # 0.33 a day: more than once a week
    assert "0.33 a day: 10 successful on 8 days" in lines[4]
    assert "median 1h 45m, p90 1d 2h over 4 commits" in lines[5]
    assert rows["Lead time for changes"][-1] == "elite"
    assert "16.7%: 2 of 12 deployments failed" in lines[6]
    assert rows["Change failure rate"][-1] == "low"
    assert "median 30m: 2 recovered, 0 unrecovered" in lines[7]
    assert rows["Failed deployment recovery time"][-1] == "elite"
    assert lines[-1] == (
        "Levels from DORA's Accelerate State of DevOps Report 2023 "
        "(https://dora.dev/research/2023/dora-report/)."
    )
    assert text.endswith("\n")


def test_nothing_to_measure_shows_n_a_without_a_level() -> None:
    empty = metrics(successful=0, failed=0, deploy_days=0, lead_times=(), recoveries=())
    text = render_report(empty, "table")
    assert "median n/a, p90 n/a over 0 commits" in text
    assert "n/a: 0 of 0 deployments failed" in text
    change_failure = next(line for line in text.splitlines() if line.startswith("Change"))
    assert change_failure.endswith("  n/a")
    assert json.loads(render_report(empty, "json"))["change_failure_rate"] is None


def test_markdown_is_a_table_for_the_job_summary() -> None:
    text = render_report(metrics(), "markdown")
    assert text.splitlines() == [
        "## DORA metrics: acme/api, production",
        "",
        "2026-09-01 to 2026-09-30 (30 days, UTC).",
        "",
        "| Metric | Value | DORA level |",
        "| --- | --- | --- |",
        "| Deployment frequency | 0.33 a day: 10 successful on 8 days | High |",
        "| Lead time for changes | median 1h 45m, p90 1d 2h over 4 commits | Elite |",
        "| Change failure rate | 16.7%: 2 of 12 deployments failed | Low |",
        "| Failed deployment recovery time | median 30m: 2 recovered, 0 unrecovered | Elite |",
        "",
        "Levels from DORA's [Accelerate State of DevOps Report 2023]"
        "(https://dora.dev/research/2023/dora-report/).",
    ]


def test_markdown_shows_names_literally() -> None:
    text = render_report(metrics(environment="prod|eu <b>*x*</b>"), "markdown")
    assert text.splitlines()[0] == r"## DORA metrics: acme/api, prod\|eu \<b\>\*x\*\</b\>"
    assert escape("a_b`c[d](e)") == r"a\_b\`c\[d\]\(e\)"


def test_json_rounds_rates_to_four_places_and_keeps_the_key_order() -> None:
    data = json.loads(render_report(metrics(), "json"))
    assert list(data) == [
        "repository",
        "environment",
        "since",
        "until",
        "deployments",
        "deployment_frequency",
        "lead_time_seconds",
        "change_failure_rate",
        "recovery_time_seconds",
    ]
    assert data["deployment_frequency"] == {"per_day": 0.3333, "deploy_days": 8}
    assert data["change_failure_rate"] == 0.1667
    assert data["lead_time_seconds"] == {"median": 1.75 * HOUR, "p90": 26 * HOUR, "commits": 4}
