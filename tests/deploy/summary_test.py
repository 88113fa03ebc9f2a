"""Rendering of the job summary and the step outputs."""

from __future__ import annotations

from datetime import UTC, datetime

from cdgen.deploy.outcome import Outcome, Phase
from cdgen.deploy.summary import render_outputs, render_summary

from .conftest import parse_outputs


def outcome(**changes: object) -> Outcome:
    base = Outcome(mode="deploy", environment="prod", image="ghcr.io/a/b:v2", result="deployed")
    base.previous_image = "ghcr.io/a/b:v1"
    base.deployed_image = "ghcr.io/a/b:v2"
    base.finished_at = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    base.commit_time = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    base.phases.append(Phase("Rollout", 12.5, True, "complete"))
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_summary_shows_lead_time_phases_and_images() -> None:
    text = render_summary(outcome())
    assert text.startswith("## ✅ cdgen deploy: prod: deployed\n")
    assert "| Lead time | 30m 00s (commit at 2026-01-01T12:00:00+00:00) |" in text
    assert "| Rollout | 12s | ✅ complete |" in text
    assert "| Previous image | `ghcr.io/a/b:v1` |" in text


def test_no_lead_time_when_nothing_new_went_live() -> None:
    assert "— (nothing new went live)" in render_summary(outcome(result="rolled-back"))
    assert "— (commit time unknown)" in render_summary(outcome(commit_time=None))


def test_table_cells_cannot_break_the_markdown() -> None:
    text = render_summary(outcome(reason="a | b\nc <img src=x>"))
    assert "| Reason | a \\| b c &lt;img src=x&gt; |" in text


def test_outputs_use_a_delimiter_no_value_contains() -> None:
    rendered = render_outputs(outcome())
    assert parse_outputs(rendered) == {
        "result": "deployed",
        "previous-image": "ghcr.io/a/b:v1",
        "deployed-image": "ghcr.io/a/b:v2",
        "deployment-id": "",
    }
    assert rendered.splitlines()[0].startswith("result<<CDGEN_")
    assert parse_outputs(render_outputs(outcome(deployment_id=1234)))["deployment-id"] == "1234"


def test_summary_of_a_skip_says_nothing_was_changed() -> None:
    text = render_summary(
        outcome(
            mode="rollback",
            result="skipped",
            image="ghcr.io/a/b:v1",
            only_if_live="ghcr.io/a/b:v2",
            previous_image="ghcr.io/a/b:v3",
            deployed_image="ghcr.io/a/b:v3",
        )
    )
    assert text.startswith("## ⏭️ cdgen rollback: prod: skipped\n")
    assert (
        "> **Nothing was changed.** The environment now runs `ghcr.io/a/b:v3`, which replaced "
        "`ghcr.io/a/b:v2` (`only-if-live`), so it was left as is: `ghcr.io/a/b:v1` was not set."
    ) in text
    assert "| Lead time | — (nothing new went live) |" in text
