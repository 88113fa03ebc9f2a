"""Real git histories built in a test: commits of given files, their SHAs, and the same
commits in the GitHub API double (deployment records can only name commits it knows)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from support.github_state import GitHubState

IDENTITY = {
    "GIT_AUTHOR_NAME": "Mona Lisa",
    "GIT_AUTHOR_EMAIL": "mona@example.com",
    "GIT_COMMITTER_NAME": "Mona Lisa",
    "GIT_COMMITTER_EMAIL": "mona@example.com",
}


class GitHistory:
    def __init__(self, root: Path, state: GitHubState | None = None, repo: str = "acme/shop"):
        self.root = root
        self.state = state
        self.repo = repo
        self.shas: list[str] = []
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {**os.environ, **IDENTITY, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root)}
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def commit(self, files: Mapping[str, str | None], message: str = "change") -> str:
        """Write (or, with None, delete) the files, commit them all; the new commit's SHA."""
        for name, text in files.items():
            path = self.root / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        number = len(self.shas) + 1
        date = f"2026-01-01T00:{number // 60:02d}:{number % 60:02d}Z"
        self.git("commit", "-q", "--allow-empty", "-m", message, f"--date={date}")
        sha = self.git("rev-parse", "HEAD")
        if self.state is not None:
            parents = self.git("log", "-1", "--format=%P").split()
            self.state.add_commit(self.repo, date, parents, sha=sha, branch="main")
        self.shas.append(sha)
        return sha
