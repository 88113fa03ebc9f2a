"""Lead time for changes: which commits each successful deployment brought, and how long
after their committer date they went live (README, "Definitions").

D's commits are those of ``compare(predecessor.sha...D.sha)`` when it is ``ahead`` or
``diverged``; GitHub answers ``git log predecessor..D``. Asking once per deployment costs a
request each, so one compare spans the window (its first predecessor to its last success)
and each deployment's answer is derived from it wherever that is provably the same set;
elsewhere (a deployment outside that span) the deployment's own compare is asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from cdgen.metrics.outcomes import Outcome
from cdgen.metrics.records import CommitRecord, Comparison, Window

CHANGED = ("ahead", "diverged")  # identical or behind: a redeploy adds no change


class CommitSource(Protocol):
    def compare(self, base: str, head: str) -> Comparison | None: ...

    def commit(self, sha: str) -> CommitRecord: ...


def lead_times(
    successes: list[Outcome], window: Window, complete: bool, source: CommitSource
) -> list[float]:
    """Per commit: the time of the first successful deployment that contains it, minus the
    commit's committer date, for those deployments inside the window. ``successes`` are in
    time order; ``complete``: the first of them is the first ever recorded."""
    inside = [index for index, o in enumerate(successes) if o.time in window]
    if not inside:
        return []
    base = successes[max(inside[0] - 1, 0)].sha
    span = Span.between_commits(source, base, span_head(successes, inside))
    counted: set[str] = set()
    shipped_heads = {o.sha for o in successes[: inside[0]]}
    seconds: list[float] = []
    for index in inside:
        deployment = successes[index]
        if index > 0:
            previous = successes[index - 1].sha
            changes = span.changes(previous, deployment.sha)
            if changes is None:
                changes = changed_commits(source, previous, deployment.sha)
        elif complete:  # the first deployment ever recorded: just its own commit
            changes = [source.commit(deployment.sha)]
        else:  # unreachable: reading stops only after a success before the window
            changes = []
        for commit in new_commits(changes, counted, shipped_heads):
            counted.add(commit.sha)
            seconds.append((deployment.time - commit.committed_at).total_seconds())
        shipped_heads.add(deployment.sha)
    return seconds


def span_head(successes: list[Outcome], inside: list[int]) -> str:
    """The window's newest image, as far as deployments tell without asking GitHub: the
    last success that shipped an image for the first time (a rollback redeploys an image
    shipped before, and would leave newer deployments out of the span)."""
    seen: set[str] = {o.sha for o in successes[: inside[0]]}
    newest = successes[inside[-1]].sha
    for index in inside:
        if successes[index].sha not in seen:
            newest = successes[index].sha
        seen.add(successes[index].sha)
    return newest


def changed_commits(source: CommitSource, base: str, head: str) -> list[CommitRecord]:
    """The commits of ``compare(base...head)`` as defined: none unless ahead or diverged."""
    if base == head:  # identical: no need to ask
        return []
    comparison = source.compare(base, head)
    if comparison is None:  # no common history: counted like a first deployment
        return [source.commit(head)]
    return comparison.commits if comparison.status in CHANGED else []


def new_commits(
    changes: list[CommitRecord], counted: set[str], shipped_heads: Iterable[str]
) -> list[CommitRecord]:
    """The commits not yet shipped: not counted before, and neither an earlier successful
    deployment's commit nor (within ``changes``) one of its ancestors. A redeploy of an older
    image followed by a newer one thus counts the commits in between only once."""
    listed = {commit.sha: commit for commit in changes}
    shipped: set[str] = set()
    stack = [sha for sha in shipped_heads if sha in listed]
    while stack:
        sha = stack.pop()
        if sha not in shipped:
            shipped.add(sha)
            stack.extend(parent for parent in listed[sha].parents if parent in listed)
    return [c for c in changes if c.sha not in counted and c.sha not in shipped]


class Span:
    """The commits of ``compare(base...head)``, that is ``git log base..head``: anc(head)
    minus anc(base), where anc(x) is x and every commit reachable from it.

    For ``old`` in the span (or ``old`` = base) with base in anc(old), and ``new`` in the
    span, anc(new) - anc(old) lies wholly inside the span (anc(new) is in anc(head), and
    anc(base) in anc(old)), and anc(old)'s part of the span is what a walk from ``old``
    inside the span reaches. So ``git log old..new`` is the walk from ``new`` that stops
    where the walk from ``old`` went: what GitHub would answer, without asking it.
    """

    def __init__(self, base: str, commits: list[CommitRecord]) -> None:
        self.base = base
        self.listed = {commit.sha: commit for commit in commits}
        self.order = {commit.sha: index for index, commit in enumerate(commits)}
        self._at: str | None = base  # the commit whose ancestry _reached holds
        self._reached: set[str] = set()  # anc(_at) inside the span
        self._based = True  # base is in anc(_at)

    @classmethod
    def between_commits(cls, source: CommitSource, base: str, head: str) -> Span:
        comparison = source.compare(base, head) if base != head else None
        changed = comparison is not None and comparison.status in CHANGED
        return cls(base, comparison.commits if comparison and changed else [])

    def changes(self, old: str, new: str) -> list[CommitRecord] | None:
        """The commits of ``compare(old...new)`` when ahead or diverged, none when behind
        or identical; None when the span cannot tell."""
        if new not in self.listed or (old != self.base and old not in self.listed):
            self._at = None
            return None
        if self._at != old:
            self._at, self._reached, self._based = old, *self._ancestry(old)
        if not self._based:
            self._at = None
            return None
        added, met = self._walk(new, stop=self._reached)
        if old == self.base:  # nothing reached before: anc(new) in the span is `added`
            self._at, self._reached = new, added
            self._based = any(self.base in self.listed[sha].parents for sha in added)
        elif old in met:  # anc(new) holds anc(old), and so base
            self._at = new
            self._reached |= added
        else:  # rolled back or diverged: the next question starts a fresh walk
            self._at = None
        return [self.listed[sha] for sha in sorted(added, key=self.order.__getitem__)]

    def _ancestry(self, sha: str) -> tuple[set[str], bool]:
        reached, _ = self._walk(sha, stop=set())
        based = sha == self.base or any(self.base in self.listed[r].parents for r in reached)
        return reached, based

    def _walk(self, start: str, stop: set[str]) -> tuple[set[str], set[str]]:
        """The span's commits reachable from ``start`` without entering ``stop``, and the
        commits of ``stop`` met on the way."""
        found: set[str] = set()
        met: set[str] = set()
        stack = [start]
        while stack:
            sha = stack.pop()
            if sha in stop:
                met.add(sha)
            elif sha in self.listed and sha not in found:
                found.add(sha)
                stack.extend(self.listed[sha].parents)
        return found, met
