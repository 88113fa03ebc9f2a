"""One compare spanning the window answers each deployment's compare exactly as GitHub
would, over random commit graphs with branches, merges, rollbacks and redeploys; where it
cannot tell, it says so and the deployment's own compare is asked."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState, iso
from support.http_json import TOKEN

from cdgen.metrics.client import GitHubClient, Token
from cdgen.metrics.leadtime import Span, changed_commits, span_head
from cdgen.metrics.outcomes import Outcome
from cdgen.metrics.records import GitHubCommits

REPO = "acme/api"
START = datetime(2026, 8, 1, tzinfo=UTC)


@pytest.fixture
def state() -> GitHubState:
    return GitHubState()


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


def random_graph(
    state: GitHubState, repo: str, rng: random.Random, size: int
) -> tuple[list[str], list[str]]:
    """A main line with feature branches forking off and merging back, some never merged;
    returns every commit and the main line's, both oldest first."""
    shas: list[str] = []
    main_line: list[str] = []
    open_branches: list[str] = []
    for index in range(size):
        when = iso(START + timedelta(hours=index))
        roll = rng.random()
        if not main_line:
            parents: list[str] = []
        elif roll < 0.15:  # a new branch off an earlier commit
            parents = [rng.choice(shas[-20:])]
        elif roll < 0.3 and open_branches:  # a commit on an open branch
            parents = [open_branches.pop(rng.randrange(len(open_branches)))]
        elif roll < 0.4 and open_branches:  # merge a branch into main
            parents = [main_line[-1], open_branches.pop(rng.randrange(len(open_branches)))]
        else:
            parents = [main_line[-1]]
        sha = state.add_commit(repo, when, parents, message=f"c{index}")
        shas.append(sha)
        if parents and parents[0] != main_line[-1]:
            open_branches.append(sha)
        else:
            main_line.append(sha)
    return shas, main_line


def deploy_sequence(
    shas: list[str], main_line: list[str], rng: random.Random, count: int
) -> list[str]:
    """Mostly main going forward; sometimes an older image again, sometimes a branch."""
    sequence = [main_line[rng.randrange(5)]]
    for _ in range(count - 1):
        roll = rng.random()
        if roll < 0.1:  # roll back, or redeploy an image shipped before
            sequence.append(rng.choice(sequence))
        elif roll < 0.15:  # any commit, a branch's included
            sequence.append(rng.choice(shas))
        else:
            newest = max(main_line.index(s) for s in sequence if s in main_line)
            sequence.append(rng.choice(main_line[newest : newest + 4]))
    return sequence


def test_the_span_answers_like_each_compare(api: GitHubApi, state: GitHubState) -> None:
    client = GitHubClient(api.url, Token(TOKEN, "GH_TOKEN"), retry_pause=0)
    pairs = answered = 0
    for seed in range(8):
        rng = random.Random(seed)
        repo = f"acme/api-{seed}"
        shas, main_line = random_graph(state, repo, rng, 160)
        deployed = deploy_sequence(shas, main_line, rng, 40)
        commits = GitHubCommits(client, repo)
        shipped = [Outcome(n, sha, True, START) for n, sha in enumerate(deployed)]
        span = Span.between_commits(commits, deployed[0], span_head(shipped, [*range(1, 40)]))
        for old, new in itertools.pairwise(deployed):
            pairs += 1
            derived = span.changes(old, new)
            if derived is not None:
                answered += 1
                asked = changed_commits(commits, old, new)
                assert [c.sha for c in derived] == [c.sha for c in asked], (seed, old, new)
    assert answered >= pairs * 3 // 4, (answered, pairs)  # most requests are saved


def test_a_span_that_is_behind_answers_nothing(api: GitHubApi, state: GitHubState) -> None:
    shas = state.add_history(REPO, 5)
    client = GitHubClient(api.url, Token(TOKEN, "GH_TOKEN"), retry_pause=0)
    span = Span.between_commits(GitHubCommits(client, REPO), shas[3], shas[1])
    assert span.listed == {}
    assert span.changes(shas[3], shas[1]) is None
    assert span.changes(shas[1], shas[2]) is None


def test_a_deployment_beside_the_base_leaves_the_span(api: GitHubApi, state: GitHubState) -> None:
    """The window's predecessor ran a branch (b1, b2); main then deployed m1 beside it, and
    the merge m2: git log m1..m2 holds the branch's commits, which the span (m2 minus
    b2's history) does not list, so the span must not answer for m1..m2."""
    m0 = state.add_commit(REPO, "2026-08-01T00:00:00Z")
    b1 = state.add_commit(REPO, "2026-08-01T01:00:00Z", [m0])
    b2 = state.add_commit(REPO, "2026-08-01T02:00:00Z", [b1])
    m1 = state.add_commit(REPO, "2026-08-01T03:00:00Z", [m0])
    m2 = state.add_commit(REPO, "2026-08-01T04:00:00Z", [m1, b2])
    commits = GitHubCommits(GitHubClient(api.url, Token(TOKEN, "GH_TOKEN"), retry_pause=0), REPO)
    span = Span.between_commits(commits, b2, m2)
    assert sorted(span.listed) == sorted([m1, m2])
    beside = span.changes(b2, m1)
    assert beside is not None
    assert [c.sha for c in beside] == [c.sha for c in changed_commits(commits, b2, m1)] == [m1]
    assert span.changes(m1, m2) is None
    assert {c.sha for c in changed_commits(commits, m1, m2)} == {b1, b2, m2}
