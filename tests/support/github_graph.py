"""Comparing two commits of a commit graph the way GitHub's compare endpoint does.

``GET /repos/{owner}/{repo}/compare/{base}...{head}`` is ``git log base..head`` in
chronological order, with the merge base and the counts both ways; see
https://docs.github.com/rest/commits/commits#compare-two-commits
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class GraphCommit(Protocol):
    sha: str
    parents: list[str]
    date: str


@dataclass(frozen=True)
class Comparison:
    status: str  # ahead | behind | identical | diverged
    ahead_by: int
    behind_by: int
    merge_base: str
    commits: list[str]  # reachable from head, not from base; oldest first


def ancestors(commits: Mapping[str, GraphCommit], sha: str) -> set[str]:
    """The commit and every commit reachable from it (iterative: histories can be long)."""
    seen = {sha}
    stack = [sha]
    while stack:
        for parent in commits[stack.pop()].parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def merge_base(commits: Mapping[str, GraphCommit], common: set[str]) -> str:
    """The best common ancestor: one that is no ancestor of another common ancestor
    (the newest of them when criss-cross merges leave several). The common set holds
    every ancestor of its members, so being a parent of one of them is enough."""
    covered = {parent for sha in common for parent in commits[sha].parents}
    best = common - covered
    return max(best, key=lambda sha: (commits[sha].date, sha))


def chronological(commits: Mapping[str, GraphCommit], selected: set[str]) -> list[str]:
    """Parents before children, otherwise oldest committer date first."""
    waiting = {sha: {p for p in commits[sha].parents if p in selected} for sha in selected}
    children: dict[str, list[str]] = {sha: [] for sha in selected}
    for sha, parents in waiting.items():
        for parent in parents:
            children[parent].append(sha)
    ready = [(commits[sha].date, sha) for sha, parents in waiting.items() if not parents]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        _, sha = heapq.heappop(ready)
        ordered.append(sha)
        for child in children[sha]:
            waiting[child].discard(sha)
            if not waiting[child]:
                heapq.heappush(ready, (commits[child].date, child))
    return ordered


def compare_commits(commits: Mapping[str, GraphCommit], base: str, head: str) -> Comparison | None:
    """None when the two commits share no history (GitHub answers 404 then)."""
    base_side, head_side = ancestors(commits, base), ancestors(commits, head)
    common = base_side & head_side
    if not common:
        return None
    ahead = head_side - base_side
    behind = base_side - head_side
    if base == head:
        status = "identical"
    elif not behind:
        status = "ahead"
    elif not ahead:
        status = "behind"
    else:
        status = "diverged"
    return Comparison(
        status, len(ahead), len(behind), merge_base(commits, common), chronological(commits, ahead)
    )
