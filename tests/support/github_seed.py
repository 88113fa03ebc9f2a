"""Seeding the GitHub REST API double from JSON (for the program form, used under act).

    {"repos": {"OWNER/NAME": {
        "default_branch": "main",
        "commits": [{"date": ISO, "parents": [SHA], "sha": SHA, "message": "", "branch": "main"}],
        "deployments": [{"sha": SHA, "environment": "production", "created_at": ISO,
                         "statuses": [["in_progress", ISO], ["success", ISO]],
                         "payload": {}, "task": "deploy", "production": true}]}}}

Only ``date`` (commits) and ``sha`` (deployments) are required; unknown keys are errors,
so that a misspelt seed fails instead of quietly seeding less.
"""

from __future__ import annotations

from typing import Any

from support.github_state import GitHubState

REPO_KEYS = {"default_branch", "commits", "deployments"}
COMMIT_KEYS = {"date", "parents", "sha", "message", "branch"}
DEPLOYMENT_KEYS = {
    "sha",
    "environment",
    "created_at",
    "statuses",
    "payload",
    "task",
    "production",
    "transient",
    "description",
}


def _check_keys(where: str, item: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})")


def load_seed(state: GitHubState, seed: dict[str, Any]) -> None:
    _check_keys("seed", seed, {"repos"})
    for full_name, spec in seed.get("repos", {}).items():
        _check_keys(full_name, spec, REPO_KEYS)
        state.add_repo(full_name, spec.get("default_branch", "main"))
        for index, commit in enumerate(spec.get("commits", [])):
            _check_keys(f"{full_name} commits[{index}]", commit, COMMIT_KEYS)
            state.add_commit(
                full_name,
                commit["date"],
                commit.get("parents", []),
                sha=commit.get("sha"),
                message=commit.get("message", ""),
                branch=commit.get("branch"),
            )
        for index, deployment in enumerate(spec.get("deployments", [])):
            _check_keys(f"{full_name} deployments[{index}]", deployment, DEPLOYMENT_KEYS)
            state.add_deployment(
                full_name,
                deployment["sha"],
                environment=deployment.get("environment", "production"),
                statuses=[(state_, at) for state_, at in deployment.get("statuses", [])],
                created_at=deployment.get("created_at"),
                payload=deployment.get("payload"),
                task=deployment.get("task", "deploy"),
                production=deployment.get("production"),
                transient=deployment.get("transient", False),
                description=deployment.get("description", ""),
            )
