"""A deployment's outcome is read from its statuses exactly as the README defines it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cdgen.metrics.outcomes import Outcome, StatusRecord, classify

T0 = datetime(2026, 9, 1, tzinfo=UTC)
SHA = "a" * 40


def statuses(*states: tuple[str, int]) -> list[StatusRecord]:
    """(state, minute) pairs, given oldest first and served newest first, as GitHub does."""
    made = [
        StatusRecord(index + 1, state, T0 + timedelta(minutes=minute))
        for index, (state, minute) in enumerate(states)
    ]
    return made[::-1]


def outcome(*states: tuple[str, int]) -> Outcome | None:
    return classify(7, SHA, statuses(*states))


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.mark.parametrize(
    ("states", "succeeded", "minute"),
    [
        ([("in_progress", 0), ("success", 5)], True, 5),
        ([("success", 3)], True, 3),  # any success, even without in_progress
        ([("in_progress", 0), ("success", 5), ("inactive", 60)], True, 5),  # later superseded
        ([("in_progress", 0), ("failure", 4), ("in_progress", 6), ("success", 9)], True, 9),
        ([("in_progress", 0), ("success", 2), ("success", 8)], True, 2),  # the first success
        ([("in_progress", 0), ("failure", 4)], False, 4),  # rolled back
        ([("in_progress", 0), ("error", 4)], False, 4),  # the rollback failed too
        ([("queued", 0), ("in_progress", 1), ("error", 3), ("failure", 4)], False, 3),
    ],
)
def test_successful_and_failed(states: list[tuple[str, int]], succeeded: bool, minute: int) -> None:
    assert outcome(*states) == Outcome(7, SHA, succeeded, at(minute))


@pytest.mark.parametrize(
    "states",
    [
        [],
        [("queued", 0)],
        [("pending", 0)],
        [("queued", 0), ("in_progress", 1)],  # never finished
        [("queued", 0), ("failure", 1)],  # rejected at the approval gate
        [("pending", 0), ("error", 1)],  # cancelled before it ran
        [("failure", 0), ("in_progress", 1)],  # in progress only after the failure
        [("in_progress", 0), ("inactive", 5)],
    ],
)
def test_ignored(states: list[tuple[str, int]]) -> None:
    assert outcome(*states) is None


def test_equal_timestamps_are_ordered_by_status_id() -> None:
    tied = [StatusRecord(2, "failure", T0), StatusRecord(1, "in_progress", T0)]
    assert classify(1, SHA, tied) == Outcome(1, SHA, False, T0)
    reversed_ids = [StatusRecord(1, "failure", T0), StatusRecord(2, "in_progress", T0)]
    assert classify(1, SHA, reversed_ids) is None
