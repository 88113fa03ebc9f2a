"""`cdgen metrics` computes DORA's four keys exactly as the README defines them, from
deployment histories served by the GitHub API double, edge cases included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from support.deploy_history import HOUR, REPO, SINCE, UNTIL, Seeder
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import TOKEN

from cdgen.metrics import measure
from cdgen.metrics.client import GitHubClient, Token
from cdgen.metrics.dora import Metrics
from cdgen.metrics.query import Query
from cdgen.metrics.records import Window

COMPARE = "GET /repos/{owner}/{repo}/compare/{basehead}"
COMMIT = "GET /repos/{owner}/{repo}/commits/{ref}"
LIST = "GET /repos/{owner}/{repo}/deployments"
STATUSES = "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"


@pytest.fixture
def state() -> GitHubState:
    return GitHubState()


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


@pytest.fixture
def seed(state: GitHubState) -> Seeder:
    return Seeder(state)


def measured(api: GitHubApi, since: str = SINCE, until: str = UNTIL) -> Metrics:
    window = Window(date.fromisoformat(since), date.fromisoformat(until))
    query = Query(REPO, "production", window, "json", api.url)
    client = GitHubClient(api.url, Token(TOKEN, "GH_TOKEN"), timeout=5, retry_pause=0)
    return measure(query, client)


def hours(metrics: Metrics) -> list[float]:
    return sorted(seconds / HOUR for seconds in metrics.lead_times)


def status_ids(api: GitHubApi) -> set[int]:
    return {int(call.path.split("/")[-2]) for call in api.calls(STATUSES)}


def test_a_month_of_deploys_gives_the_documented_json(api: GitHubApi, seed: Seeder) -> None:
    (c0,) = seed.commits(1, first=-50)
    seed.success(c0, -48)  # the predecessor, before the window
    _, c2 = seed.commits(2, first=1)
    seed.success(c2, 3, took=0.5)  # the first after 2.5 h, c2 after 1.5 h
    (c3,) = seed.commits(1, first=10)
    seed.failure(c3, 11, took=0.5)  # failed at 11.5 h
    (c4,) = seed.commits(1, first=12)
    seed.success(c4, 12.5, took=0.5)  # recovered at 13 h; c3 after 3 h, c4 after 1 h
    (c5,) = seed.commits(1, first=48)
    seed.success(c5, 50, took=0.5)  # two days later: c5 after 2.5 h

    assert measured(api).to_json() == {
        "repository": REPO,
        "environment": "production",
        "since": SINCE,
        "until": UNTIL,
        "deployments": {"total": 4, "successful": 3, "failed": 1},
        "deployment_frequency": {"per_day": 0.1, "deploy_days": 2},
        # lead times 1, 1.5, 2.5, 2.5, 3 h: the median is the 3rd, p90 the ⌈4.5⌉ = 5th
        "lead_time_seconds": {"median": 2.5 * HOUR, "p90": 3 * HOUR, "commits": 5},
        "change_failure_rate": 0.25,
        "recovery_time_seconds": {"median": 1.5 * HOUR, "failures_recovered": 1, "unrecovered": 0},
    }


def test_redeploying_an_older_image_adds_no_change(api: GitHubApi, seed: Seeder) -> None:
    _, c1, c2, _, c4, c5 = seed.commits(6, first=-10)  # -10 h ... -5 h
    seed.success(c1, -2)  # predecessor
    seed.success(c4, 1)  # c2, c3, c4
    seed.success(c2, 5)  # an older image again: behind, nothing new
    seed.success(c5, 9)  # after the older image: only c5 is new, c3 and c4 were live before
    seed.success(c5, 12)  # the same image again: identical

    metrics = measured(api)
    assert hours(metrics) == [7.25, 8.25, 9.25, 14.25]
    assert metrics.successful == 4
    # One compare spans the window; each deployment's changes are derived from it.
    compared = [call.path.rsplit("/", 1)[1] for call in api.calls(COMPARE)]
    assert compared == [f"{c1}...{c5}"]


def test_commits_the_predecessor_shipped_are_not_counted_again(
    api: GitHubApi, seed: Seeder
) -> None:
    _, _, c2, _, c4, c5 = seed.commits(6, first=-10)
    seed.success(c4, -2)  # the predecessor shipped c4 (and c3) before the window
    seed.success(c2, 1)  # a rollback to an older image
    seed.success(c5, 9)  # c3 and c4 were live already: only c5 is new

    assert hours(measured(api)) == [9.25 + 5]


def test_failures_never_recovered(api: GitHubApi, seed: Seeder) -> None:
    c0, c1, c2 = seed.commits(3, first=-30)
    seed.success(c0, -10)
    seed.failure(c1, 100)  # failed at 100.25 h, recovered at 102.25 h
    seed.success(c0, 102)
    seed.failure(c2, 700)  # the window ends at 720 h
    # Started inside the window, live only after it: too late to recover the failure.
    seed.deploy(c0, 719, ("in_progress", 719), ("success", 721))

    metrics = measured(api).to_json()
    assert metrics["deployments"] == {"total": 3, "successful": 1, "failed": 2}
    assert metrics["recovery_time_seconds"] == {
        "median": 2 * HOUR,
        "failures_recovered": 1,
        "unrecovered": 1,
    }
    assert metrics["change_failure_rate"] == round(2 / 3, 4)


def test_a_failure_with_no_success_after_it_leaves_no_recovery_time(
    api: GitHubApi, seed: Seeder
) -> None:
    (c0,) = seed.commits(1, first=-30)
    seed.failure(c0, 5, state="error")  # the rollback itself failed
    metrics = measured(api).to_json()
    assert metrics["recovery_time_seconds"] == {
        "median": None,
        "failures_recovered": 0,
        "unrecovered": 1,
    }
    assert metrics["change_failure_rate"] == 1.0
    assert metrics["lead_time_seconds"] == {"median": None, "p90": None, "commits": 0}


def test_deployments_that_never_finished_are_ignored(api: GitHubApi, seed: Seeder) -> None:
    c0, c1 = seed.commits(2, first=-30)
    seed.success(c0, -10)
    seed.deploy(c1, 1)  # no status at all
    seed.deploy(c1, 2, ("queued", 2))
    seed.deploy(c1, 3, ("pending", 3))
    seed.deploy(c1, 4, ("queued", 4), ("in_progress", 4.1))  # still running
    seed.success(c1, 5)

    metrics = measured(api)
    assert (metrics.successful, metrics.failed, metrics.change_failure_rate) == (1, 0, 0.0)
    assert hours(metrics) == [5.25 + 29]


def test_rejected_or_cancelled_at_the_gate_is_ignored(api: GitHubApi, seed: Seeder) -> None:
    c0, c1 = seed.commits(2, first=-30)
    seed.success(c0, -10)
    seed.deploy(c1, 1, ("queued", 1), ("failure", 2))  # rejected by a reviewer
    seed.deploy(c1, 3, ("pending", 3), ("error", 3.5))  # cancelled before it ran
    seed.deploy(c1, 4, ("failure", 4), ("in_progress", 4.5))  # in progress only after it
    seed.failure(c1, 6, state="error")  # ran, and the rollback failed: a failure

    metrics = measured(api).to_json()
    assert metrics["deployments"] == {"total": 1, "successful": 0, "failed": 1}


def test_compare_is_paged_past_one_page(api: GitHubApi, seed: Seeder) -> None:
    (c0,) = seed.commits(1, first=-300)
    seed.success(c0, -299)
    changes = seed.commits(250, first=-280)  # one an hour, the last at -31 h
    seed.success(changes[-1], 1)

    metrics = measured(api)
    assert len(metrics.lead_times) == 250
    assert hours(metrics) == [1.25 + 31 + n for n in range(250)]
    pages = [(call.query["page"], call.query["per_page"]) for call in api.calls(COMPARE)]
    assert pages == [(["1"], ["100"]), (["2"], ["100"]), (["3"], ["100"])]


def test_the_first_deployment_ever_counts_just_its_own_commit(api: GitHubApi, seed: Seeder) -> None:
    _, c1, c2, _, c4 = seed.commits(5, first=-10)
    seed.failure(c1, 1)  # a failure is no predecessor
    seed.success(c2, 2)  # the first success ever: c2 alone, not c0 and c1
    seed.success(c4, 5)  # then c3 and c4

    metrics = measured(api)
    assert hours(metrics) == [2.25 + 8, 5.25 + 6, 5.25 + 7]
    assert [call.path.rsplit("/", 1)[1] for call in api.calls(COMMIT)] == [c2]


def test_window_boundaries_are_half_open_days(api: GitHubApi, seed: Seeder) -> None:
    c0, c1, c2, c3 = seed.commits(4, first=-30)
    seed.success(c0, -5)  # the predecessor
    seed.deploy(c1, -1, ("in_progress", -1), ("success", 0))  # at since 00:00: inside
    seed.failure(c2, 23, took=1 - 1 / HOUR)  # at 23:59:59: inside
    seed.deploy(c3, 23.5, ("in_progress", 23.5), ("success", 24))  # at until 00:00: outside

    metrics = measured(api, since="2026-09-01", until="2026-09-02").to_json()
    assert metrics["deployments"] == {"total": 2, "successful": 1, "failed": 1}
    assert metrics["deployment_frequency"] == {"per_day": 1.0, "deploy_days": 1}
    # The success at until 00:00 is after the window: the failure stays unrecovered.
    assert metrics["recovery_time_seconds"]["unrecovered"] == 1
    assert metrics["lead_time_seconds"]["commits"] == 1


def test_the_predecessor_before_the_window_bounds_the_first_lead_times(
    api: GitHubApi, seed: Seeder
) -> None:
    c0, c1, c2, c3 = seed.commits(4, first=-200)  # -200 h ... -197 h
    seed.success(c0, -150)  # an older success: not read
    seed.success(c1, -100)  # the predecessor
    seed.failure(c2, -50)  # failures before the window: read, not counted
    seed.success(c3, 10)

    metrics = measured(api)
    assert hours(metrics) == [10.25 + 197, 10.25 + 198]  # c2 and c3, not c1
    assert (metrics.successful, metrics.failed) == (1, 0)


def test_reading_stops_at_the_predecessor(api: GitHubApi, state: GitHubState, seed: Seeder) -> None:
    c0, c1, c2 = seed.commits(3, first=-3000)
    old = [seed.success(c0, -2000 + n) for n in range(150)]  # two pages of older history
    predecessor = seed.success(c1, -100)
    failed_before = seed.failure(c2, -50)
    inside = [seed.success(c2, 10), seed.failure(c2, 20), seed.success(c2, 30)]
    after = seed.success(c2, 800)  # created after the window: its statuses are not needed

    metrics = measured(api)
    assert (metrics.successful, metrics.failed) == (2, 1)
    assert len(api.calls(LIST)) == 1  # the predecessor is on the first page of 100
    assert status_ids(api) == {predecessor, failed_before, *inside}
    assert not status_ids(api) & {*old, after}
    assert len(state.repos[REPO].deployments) == 156


def test_reading_follows_pages_until_the_predecessor(api: GitHubApi, seed: Seeder) -> None:
    c0, c1 = seed.commits(2, first=-3000)
    older = [seed.success(c0, -2500 + n) for n in range(250)]
    predecessor = seed.success(c0, -1500)  # the 122nd newest: on page 2 of 4
    for n in range(120):  # never finished: they push the predecessor down the list
        seed.deploy(c1, -1000 + n, ("queued", -1000 + n))
    seed.success(c1, 5)

    metrics = measured(api)
    assert [call.query.get("page") for call in api.calls(LIST)] == [None, ["2"]]
    assert predecessor in status_ids(api)
    assert not status_ids(api) & set(older)
    assert hours(metrics) == [5.25 + 2999]


def test_lead_time_runs_from_the_committer_date(
    api: GitHubApi, state: GitHubState, seed: Seeder
) -> None:
    (c0,) = seed.commits(1, first=-30)
    seed.success(c0, -20)
    rebased = state.add_commit(
        REPO, "2026-08-31T22:00:00Z", [c0], author_date="2026-08-20T00:00:00Z", branch="main"
    )
    seed.success(rebased, 1)
    assert hours(measured(api)) == [3.25]  # from 22:00 the day before, not from August 20


def test_a_diverged_predecessor_counts_the_head_side(
    api: GitHubApi, state: GitHubState, seed: Seeder
) -> None:
    c0, _, c2 = seed.commits(3, first=-30)
    hotfix = state.add_commit(REPO, "2026-08-31T06:00:00Z", [c0], branch="hotfix")
    seed.success(hotfix, -10)  # production ran a hotfix branch
    seed.success(c2, 2)  # then main again: c1 and c2 are new, c0 was live before

    assert hours(measured(api)) == [2.25 + 28, 2.25 + 29]


def test_unrelated_history_counts_like_a_first_deployment(
    api: GitHubApi, state: GitHubState, seed: Seeder
) -> None:
    orphan = state.add_commit(REPO, "2026-08-01T00:00:00Z", branch="old-root")
    seed.success(orphan, -10)
    _, c1 = seed.commits(2, first=-5)
    seed.success(c1, 1)  # GitHub finds no common ancestor: 404 on compare

    assert hours(measured(api)) == [1.25 + 4]  # c1 alone
    assert len(api.calls(COMPARE)) == 1


def test_only_the_chosen_environment_is_read(
    api: GitHubApi, state: GitHubState, seed: Seeder
) -> None:
    (c0,) = seed.commits(1, first=-30)
    seed.success(c0, -10)
    Seeder(state, environment="staging").failure(c0, 5)
    seed.success(c0, 6)

    metrics = measured(api)
    assert (metrics.successful, metrics.failed) == (1, 0)
    assert {tuple(call.query["environment"]) for call in api.calls(LIST)} == {("production",)}


def test_an_empty_window_has_nothing_to_measure(api: GitHubApi, seed: Seeder) -> None:
    (c0,) = seed.commits(1, first=-30)
    seed.success(c0, -10)
    assert measured(api).to_json() == {
        "repository": REPO,
        "environment": "production",
        "since": SINCE,
        "until": UNTIL,
        "deployments": {"total": 0, "successful": 0, "failed": 0},
        "deployment_frequency": {"per_day": 0.0, "deploy_days": 0},
        "lead_time_seconds": {"median": None, "p90": None, "commits": 0},
        "change_failure_rate": None,
        "recovery_time_seconds": {"median": None, "failures_recovered": 0, "unrecovered": 0},
    }
    assert not api.calls(COMPARE)


def test_median_and_nearest_rank_p90(api: GitHubApi, seed: Seeder) -> None:
    (c0,) = seed.commits(1, first=-30)
    seed.success(c0, -20)
    seed.commits(10, first=-9.25)  # lead times 1 h ... 10 h at the deploy below
    seed.deploy(seed.state.repos[REPO].branches["main"], 0, ("in_progress", 0), ("success", 0.75))

    metrics = measured(api).to_json()
    assert metrics["lead_time_seconds"] == {"median": 5.5 * HOUR, "p90": 9 * HOUR, "commits": 10}
